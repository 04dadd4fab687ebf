// Files people attach to messages: their records (who uploaded what to which conversation, and
// the message that carries it) and their bytes, stored content-addressed (by SHA-256) so a
// record only ever points at immutable blobs. Where the bytes live is the backend's business:
// a directory beside the SQLite file, or chunks in Postgres that every node reaches.
import type { AttachmentEntry, ConversationId, MessageId, UserId } from '@outpost/shared-schema';

/** The stored forms of a file: the original, and for images a display size and a thumbnail. */
export const FileVariants = ['original', 'display', 'thumb'] as const;
export type FileVariant = (typeof FileVariants)[number];

/** A file as stored: what a message may name (`entry`), and where its bytes are. */
export interface FileRecord {
  entry: AttachmentEntry;
  conversationId: ConversationId;
  uploader: UserId;
  /** Blob keys (SHA-256, hex) of each stored form; display and thumb for images only. */
  blobs: { original: string; display: string | null; thumb: string | null };
  createdAt: number;
  /** The message that carries it, once one was numbered; null until then. */
  messageId: MessageId | null;
}

export type NewFile = Omit<FileRecord, 'messageId'>;

/** A blob's bytes, read in chunks as they are consumed (never the whole blob in memory). */
export interface BlobReader {
  size: number;
  chunks: AsyncIterable<Uint8Array>;
}

export interface Files {
  /**
   * Stores the bytes `open()` yields under `key`, their SHA-256 (hex). A blob stored already is
   * kept (its bytes are the same; `open` is not called) and marked as recently stored, so
   * collection spares it. Throws when the bytes do not hash to `key`; nothing is kept then.
   */
  putBlob(key: string, open: () => AsyncIterable<Uint8Array>): Promise<void>;
  /** The bytes under `key`, or null when there is no such blob. */
  readBlob(key: string): Promise<BlobReader | null>;
  /**
   * Records a file whose blobs are stored. Returns the stored record: the new one, or the one
   * already recorded under that id (the caller tells an upload retried by its owner from an id
   * taken by someone else).
   */
  createFile(file: NewFile): Promise<{ created: boolean; file: FileRecord }>;
  getFile(id: string): Promise<FileRecord | null>;
  /** Bytes of the files `userId` uploaded that are still stored (for the quota). */
  usage(userId: UserId): Promise<number>;
  /** Forgets files no message came to carry, recorded before `before`; returns how many. */
  deleteUnattached(before: number): Promise<number>;
  /**
   * Deletes blobs no file refers to any more and not stored since `before` (files of deleted
   * messages, forgotten uploads); returns how many.
   */
  collectBlobs(before: number): Promise<number>;
}
