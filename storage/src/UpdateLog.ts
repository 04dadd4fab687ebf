// The documents' update log: per document, a compacted base and the entries after it, each at
// a version 1, 2, 3, …. It is the truth every node catches up from. Appends are conditional
// (a write names the version its copy holds and is refused when the log moved on), so writes
// to one document are serialised across nodes; they are group-committed, one transaction per
// batch across documents, and a new message gets its number in the same transaction as the
// entry that creates it.
import type { ConversationId, UserId } from '@outpost/shared-schema';
import type { NewMessage, NumberedMessage } from './Projection.ts';

export interface LogEntry {
  version: number;
  update: Uint8Array;
}

/** A stored document: the compacted base (if any) and the entries after it, in order. */
export interface StoredDocument {
  base: Uint8Array | null;
  /** The version the base includes (0 when there is none). */
  baseVersion: number;
  entries: LogEntry[];
  /** The last version included (0 for a document never written). */
  version: number;
}

/** One document write of a commit batch. */
export interface LogWrite {
  doc: string;
  /**
   * The version the writer's copy holds; the write is refused as `stale` if the log is past it,
   * and so is a write after a refused write to the same document in the same batch (it was based
   * on that one's entry).
   */
  base: number;
  /**
   * The entry to append. A write that numbers messages may build it once their numbers are
   * known (the server's sequence entries travel in the same entry as the messages).
   */
  entry: Uint8Array | ((numbers: readonly NumberedMessage[]) => Uint8Array);
  /** New messages the entry creates, numbered in the commit; ids are unique in the conversation. */
  messages?: { conversationId: ConversationId; segmentSize: number; list: readonly NewMessage[] };
  /** Read positions the entry moves (max over devices; never past the conversation's last seq). */
  reads?: readonly { conversationId: ConversationId; userId: UserId; seq: number }[];
  /** Yjs client ids the entry writes with: each belongs to the first user who writes with it here. */
  clients?: { userId: UserId; ids: readonly number[] };
}

/** How a numbering write left its conversation. */
export interface ConversationCursor {
  conversationId: ConversationId;
  lastSeq: number;
  head: number;
}

export type CommitOutcome =
  | { ok: true; version: number; numbers: NumberedMessage[]; cursor?: ConversationCursor }
  /** The log moved past `base`: catch up and try again. */
  | { ok: false; reason: 'stale' }
  /** A message id already belongs to another segment (or another message) of the conversation. */
  | { ok: false; reason: 'duplicateMessage'; ids: string[] }
  /** A new message in a segment past `head + 1`. */
  | { ok: false; reason: 'beyondHead'; head: number }
  /** A read position past the conversation's last seq. */
  | { ok: false; reason: 'readBeyondEnd'; conversationId: ConversationId; lastSeq: number }
  | { ok: false; reason: 'noConversation'; conversationId: ConversationId }
  /**
   * A message names files the server does not have for it: missing, uploaded by someone else or
   * to another conversation, carried by another message, or named otherwise than recorded.
   */
  | { ok: false; reason: 'badAttachment'; ids: string[] }
  /** A Yjs client id that belongs to another user in this document. */
  | { ok: false; reason: 'clientTaken'; ids: number[] }
  /** More new client ids than a user may bring to one document in a day. */
  | { ok: false; reason: 'tooManyClients'; limit: number };

/** New Yjs client ids one user may bring to one document per day (a new id per app start). */
export const CLIENTS_PER_DOC_PER_DAY = 256;

export interface UpdateLog {
  load(doc: string): Promise<StoredDocument>;
  /**
   * The entries after `version`, in order (one indexed query); null when some of them were
   * compacted into the base since, so the caller must load the document again.
   */
  after(doc: string, version: number): Promise<LogEntry[] | null>;
  /**
   * Appends a batch of writes in one transaction. Each write is decided on its own: a refused
   * write changes nothing and does not affect the others. Outcomes are in the order given.
   */
  commit(writes: readonly LogWrite[], now: number): Promise<CommitOutcome[]>;
  /** Entries after the base. */
  countEntries(doc: string): Promise<number>;
  /**
   * Merges the base and the committed entries into a new base and trims them. Safe while other
   * nodes append or compact: committed entries never change, and a newer base is never replaced.
   */
  compact(doc: string, merge: (parts: Uint8Array[]) => Uint8Array): Promise<void>;
}
