// Files in the replica: messages with attachments that wait to be uploaded (the files' bytes
// and the device-made preview, so they survive a reload and an app restart offline), and copies
// of what the server serves (every thumbnail; full-size images that were viewed, within a budget).
import type { AttachmentEntry, ConversationId, MessageId, UserId } from '@outpost/shared-schema';

/** One file of an outgoing message, as the device holds it until the server has it. */
export interface OutgoingFile {
  /** A random UUID made on this device; the server keeps it. */
  id: string;
  name: string;
  /** What the device says it is (the server decides from the bytes once it has them). */
  type: string;
  size: number;
  data: Blob;
  /** A thumbnail made on the device (images only, where the platform can draw). */
  preview?: { blob: Blob; width: number; height: number };
  /** What the server stored, once uploaded: the message will carry exactly this. */
  uploaded?: AttachmentEntry;
}

/** A message written with files, waiting for them to upload before it is sent. */
export interface OutgoingMessage {
  id: MessageId;
  conversationId: ConversationId;
  author: UserId;
  body: string;
  createdAt: number;
  replyTo?: MessageId;
  mentions?: UserId[];
  files: OutgoingFile[];
  /** Why the server refused a file (too large, not allowed): the user retries or cancels. */
  failure?: string;
}

/** Kinds of cached copies: thumbnails are always kept; full-size copies within a budget. */
export type CachedKind = 'thumb' | 'full';

export interface CacheUsage {
  thumbs: { count: number; bytes: number };
  full: { count: number; bytes: number };
  /** Bytes full-size copies may take before the least recently used go. */
  budget: number;
}

export interface ReplicaFiles {
  saveOutgoing(message: OutgoingMessage): Promise<void>;
  /** Outgoing messages, oldest first. */
  outgoing(): Promise<OutgoingMessage[]>;
  dropOutgoing(id: MessageId): Promise<void>;
  /** Keeps a copy of a file's bytes under `key` (`<fileId>/<variant>`); full-size copies within the budget. */
  keep(key: string, blob: Blob, kind: CachedKind): Promise<void>;
  /** A kept copy, or undefined (a full-size one becomes the most recently used). */
  kept(key: string): Promise<Blob | undefined>;
  /** The keys of every kept copy. */
  keptKeys(): Promise<string[]>;
  usage(): Promise<CacheUsage>;
}

/** Full-size images kept for offline viewing, by default. */
export const DEFAULT_FULL_SIZE_BUDGET = 200 * 1024 * 1024;

/** Files in memory only: they last as long as the client (a Node program, a test). */
export function memoryFiles(budget = DEFAULT_FULL_SIZE_BUDGET): ReplicaFiles {
  const outgoing = new Map<MessageId, OutgoingMessage>();
  const cache = new Map<string, { blob: Blob; kind: CachedKind; usedAt: number }>();
  let clock = 0;
  return {
    saveOutgoing: async (message) => void outgoing.set(message.id, message),
    outgoing: async () => [...outgoing.values()].sort((a, b) => a.createdAt - b.createdAt),
    dropOutgoing: async (id) => void outgoing.delete(id),
    keep: async (key, blob, kind) => {
      cache.set(key, { blob, kind, usedAt: ++clock });
      if (kind === 'full') for (const evicted of overBudget([...cache].map(([k, v]) => ({ key: k, size: v.blob.size, kind: v.kind, usedAt: v.usedAt })), budget)) cache.delete(evicted);
    },
    kept: async (key) => {
      const entry = cache.get(key);
      if (entry) entry.usedAt = ++clock;
      return entry?.blob;
    },
    keptKeys: async () => [...cache.keys()],
    usage: async () => usageOf([...cache.values()].map((v) => ({ size: v.blob.size, kind: v.kind })), budget),
  };
}

/** The keys of full-size copies to drop, least recently used first, until the rest fit `budget`. */
export function overBudget(entries: readonly { key: string; size: number; kind: CachedKind; usedAt: number }[], budget: number): string[] {
  const full = entries.filter((e) => e.kind === 'full').sort((a, b) => a.usedAt - b.usedAt);
  let total = full.reduce((sum, e) => sum + e.size, 0);
  const drop: string[] = [];
  for (const entry of full) {
    if (total <= budget) break;
    drop.push(entry.key);
    total -= entry.size;
  }
  return drop;
}

export function usageOf(entries: readonly { size: number; kind: CachedKind }[], budget: number): CacheUsage {
  const usage: CacheUsage = { thumbs: { count: 0, bytes: 0 }, full: { count: 0, bytes: 0 }, budget };
  for (const entry of entries) {
    const bucket = entry.kind === 'thumb' ? usage.thumbs : usage.full;
    bucket.count += 1;
    bucket.bytes += entry.size;
  }
  return usage;
}
