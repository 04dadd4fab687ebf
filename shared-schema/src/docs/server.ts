// `conv:<id>:server`, written only by the server: bounded state about a conversation that every
// member keeps open (meta, members, head segment, change counters, receipts).
import * as Y from 'yjs';
import type { UserId } from '../names.ts';

export const ConversationKinds = { dm: 'dm', group: 'group' } as const;
export type ConversationKind = keyof typeof ConversationKinds;

export const Roles = { owner: 'owner', admin: 'admin', member: 'member' } as const;
export type Role = keyof typeof Roles;

export interface ConversationMeta {
  kind: ConversationKind;
  title: string;
  createdBy: UserId;
  createdAt: number;
  /** The segment that takes new messages. */
  head: number;
  /** Highest sequence number allocated so far. */
  lastSeq: number;
  /** Messages per segment before `head` moves on; clients roll over by the same rule. */
  segmentSize: number;
}

export interface MemberEntry {
  role: Role;
  joinedAt: number;
  /** Names, so every member can be shown by name, offline too. */
  username: string;
  displayName: string;
}

export interface ReceiptEntry {
  /** Highest seq the member has read (max over their devices). */
  read: number;
}

export const ServerRoots = { meta: 'meta', members: 'members', segments: 'segments', receipts: 'receipts' } as const;

export function serverMaps(doc: Y.Doc) {
  return {
    meta: doc.getMap<unknown>(ServerRoots.meta),
    members: doc.getMap<MemberEntry>(ServerRoots.members),
    /** segment number (as a string) → change counter, bumped on every accepted change there. */
    segments: doc.getMap<number>(ServerRoots.segments),
    receipts: doc.getMap<ReceiptEntry>(ServerRoots.receipts),
  };
}

export function readMeta(doc: Y.Doc): ConversationMeta | null {
  const meta = serverMaps(doc).meta;
  const kind = meta.get('kind');
  if (kind !== 'dm' && kind !== 'group') return null;
  return {
    kind,
    title: String(meta.get('title') ?? ''),
    createdBy: meta.get('createdBy') as UserId,
    createdAt: Number(meta.get('createdAt') ?? 0),
    head: Number(meta.get('head') ?? 0),
    lastSeq: Number(meta.get('lastSeq') ?? 0),
    segmentSize: Number(meta.get('segmentSize') ?? 1000),
  };
}

/** Sets only the fields that differ, so reconciling an up-to-date doc writes nothing. */
export function writeMeta(doc: Y.Doc, meta: Partial<ConversationMeta>): void {
  const map = serverMaps(doc).meta;
  doc.transact(() => {
    for (const [key, value] of Object.entries(meta)) {
      if (value !== undefined && map.get(key) !== value) map.set(key, value);
    }
  });
}
