// What nodes tell each other. The shared log is the truth; these are only notices that make a
// node look at it sooner (an append, with the entry itself when it is small), plus the things
// that must reach every node at once: membership changes and revoked sessions, and presence.
// A lost notice costs time, never data: a node that learns nothing still catches up from the
// log before its next write, and every node catches up on everything when Redis returns.
import type { Redis } from 'ioredis';
import type { ConversationId, DeviceId, UserId } from '@outpost/shared-schema';

export interface AppendNotice {
  doc: string;
  version: number;
  /** The entry at `version`, when small enough to carry; otherwise read it from the log. */
  update: Uint8Array | null;
}

export type ControlNotice =
  | { type: 'membership'; conversationId: ConversationId; users: UserId[]; removed: UserId[] }
  | { type: 'sessionRevoked'; deviceId: DeviceId };

/** A user's awareness states changed on some node (client ids are that node's clients'). */
export interface PresenceNotice {
  from: UserId;
  entries: { clientId: number; state: Record<string, unknown> | null }[];
}

export interface CoordinatorHandlers {
  append(notice: AppendNotice): void;
  control(notice: ControlNotice): void;
  presence(notice: PresenceNotice): void;
  /** Notices may have been lost (Redis was away): catch up on everything. */
  resumed(): void;
}

export interface Coordinator {
  readonly nodeId: string;
  /** True while notices flow (always, for a single node). */
  readonly connected: boolean;
  /** A Redis client for state nodes share (rate limits), or null for a single node. */
  readonly store: Redis | null;
  start(handlers: CoordinatorHandlers): Promise<void>;
  /** Appends to this document interest this node (it is loading it); resolves once subscribed. */
  watch(doc: string): Promise<void>;
  unwatch(doc: string): void;
  announceAppend(notice: AppendNotice): void;
  announceControl(notice: ControlNotice): void;
  announcePresence(notice: PresenceNotice): void;
  close(): Promise<void>;
}

/** One node on its own: nobody to tell. */
export class LocalCoordinator implements Coordinator {
  readonly nodeId = 'local';
  readonly connected = true;
  readonly store = null;
  async start(): Promise<void> {}
  async watch(): Promise<void> {}
  unwatch(): void {}
  announceAppend(): void {}
  announceControl(): void {}
  announcePresence(): void {}
  async close(): Promise<void> {}
}
