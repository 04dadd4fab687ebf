// Attached files, from the upload to the bytes a member reads back. An upload is streamed to a
// temporary file (never held whole in memory) while it is counted against the size limit, then
// typed from its bytes, images re-encoded (imageVariants.ts), and every stored form put into
// storage under its SHA-256; only then is the file recorded. A file belongs to the conversation it
// was uploaded to: only its current members may read it, and a message may carry it only if its
// author uploaded it (the commit that numbers the message checks that, storage/commitPlan.ts).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Limits, OutpostError, type AttachmentEntry, type ConversationId, type UserId } from '@outpost/shared-schema';
import type { BlobReader, FileRecord, FileVariant, Storage } from '@outpost/storage';
import type { FileLimits } from '../config.ts';
import type { Logger } from '../log.ts';
import { RateLimiter } from '../rateLimiter.ts';
import type { Redis } from 'ioredis';
import { cleanName, detectType, isInlineType, withExtension, type Detected } from './fileTypes.ts';
import { makeImageVariants } from './imageVariants.ts';

/** Uploads no message came to carry are forgotten after this long (their device had a week to send it). */
export const UNATTACHED_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Blobs no file refers to are deleted once they have not been stored again for this long. */
const BLOB_GRACE_MS = 60 * 60 * 1000;
/** How often a node cleans up. */
const SWEEP_MS = 60 * 60 * 1000;
/** Images decoded at the same time on one node (libvips uses several threads for each). */
const IMAGE_SLOTS = 2;

/** Extensions that already say what an image output is. */
const FITTING: Record<string, readonly string[]> = { 'image/jpeg': ['jpg', 'jpeg', 'jfif'], 'image/png': ['png'], 'image/webp': ['webp'], 'image/gif': ['gif'] };

export interface Upload {
  userId: UserId;
  conversationId: ConversationId;
  fileId: string;
  name: string;
  /** The declared length, when the client sent one (refused at once when over the limit). */
  length: number | null;
  body: AsyncIterable<Uint8Array>;
}

/** A stored form of a file, ready to send. */
export interface FileBytes {
  entry: AttachmentEntry;
  type: string;
  /** Served inline (a re-encoded raster image); everything else is a download. */
  inline: boolean;
  /** The blob key: the same bytes have the same key, so it serves as an ETag. */
  key: string;
  blob: BlobReader;
}

export class FileService {
  readonly #storage: Storage;
  readonly #limits: FileLimits;
  readonly #spool: string;
  readonly #log: Logger;
  readonly #uploads: RateLimiter;
  readonly #sweep: NodeJS.Timeout;
  #imageSlots = IMAGE_SLOTS;
  readonly #waitingForSlot: (() => void)[] = [];

  constructor(options: { storage: Storage; limits: FileLimits; dataDir: string; redis: Redis | null; log: Logger }) {
    this.#storage = options.storage;
    this.#limits = options.limits;
    this.#spool = join(options.dataDir, 'uploading');
    this.#log = options.log;
    const perMinute = options.limits.uploadsPerMinute;
    this.#uploads = new RateLimiter('uploads', { capacity: perMinute, perSecond: perMinute / 60 }, options.redis);
    this.#sweep = setInterval(() => void this.cleanUp().catch((error: unknown) => this.#log.warn('cleaning up files failed; the next sweep tries again', { error })), SWEEP_MS);
    this.#sweep.unref();
  }

  /** Starts afresh: whatever a previous run of this node left half-uploaded goes. */
  async start(): Promise<void> {
    await rm(this.#spool, { recursive: true, force: true });
    await mkdir(this.#spool, { recursive: true });
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  /**
   * Stores an upload and records it. The same id uploaded again by its owner to the same
   * conversation answers with the stored file (a retry after a lost answer stores nothing twice).
   */
  async upload(upload: Upload): Promise<{ created: boolean; entry: AttachmentEntry }> {
    await this.#requireMember(upload.conversationId, upload.userId);
    const existing = await this.#storage.files.getFile(upload.fileId);
    if (existing) return { created: false, entry: this.#ownUpload(existing, upload) };
    const { maxBytes, quotaBytes } = this.#limits;
    if (upload.length !== null && upload.length > maxBytes) throw tooLarge(maxBytes);
    await this.#uploads.take(upload.userId);
    const used = await this.#storage.files.usage(upload.userId);
    if (used + (upload.length ?? 0) > quotaBytes) throw overQuota(used, quotaBytes);

    const dir = await mkdtemp(join(this.#spool, 'u-'));
    try {
      const received = join(dir, 'received');
      const size = await spool(upload.body, received, maxBytes);
      if (used + size > quotaBytes) throw overQuota(used, quotaBytes);
      const detected = await detectType(received);
      const name = cleanName(upload.name, Limits.fileName);
      const file = detected.kind === 'image' ? await this.#storeImage(received, detected, dir, name, upload) : await this.#storeFile(received, detected.type, name, size, upload);
      const { created, file: stored } = await this.#storage.files.createFile(file);
      // Two uploads of one id at once: the first recorded wins; the other is told as a retry would be.
      return { created, entry: created ? stored.entry : this.#ownUpload(stored, upload) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The bytes of one stored form of a file, for a current member of its conversation. */
  async open(userId: UserId, conversationId: ConversationId, fileId: string, variant: FileVariant): Promise<FileBytes> {
    await this.#requireMember(conversationId, userId);
    const file = await this.#storage.files.getFile(fileId);
    if (!file || file.conversationId !== conversationId) throw new OutpostError('notFound', 'no such file in this conversation');
    const image = file.blobs.thumb !== null;
    const key = variant === 'thumb' ? file.blobs.thumb : variant === 'display' ? (file.blobs.display ?? file.blobs.original) : file.blobs.original;
    if (!key) throw new OutpostError('notFound', `this file has no ${variant} (it is not an image)`);
    const blob = await this.#storage.files.readBlob(key);
    if (!blob) throw new OutpostError('notFound', 'the bytes of this file are gone');
    const type = variant === 'original' ? file.entry.type : variant === 'thumb' ? 'image/webp' : displayType(file);
    return { entry: file.entry, type, inline: image && isInlineType(type), key, blob };
  }

  /** The limits a client checks before uploading, and how much of the quota `userId` uses. */
  async limits(userId: UserId): Promise<{ maxBytes: number; maxImagePixels: number; quotaBytes: number; usedBytes: number }> {
    const { maxBytes, maxImagePixels, quotaBytes } = this.#limits;
    return { maxBytes, maxImagePixels, quotaBytes, usedBytes: await this.#storage.files.usage(userId) };
  }

  /** What a file is (its entry), for a current member of its conversation. */
  async describe(userId: UserId, conversationId: ConversationId, fileId: string): Promise<AttachmentEntry> {
    await this.#requireMember(conversationId, userId);
    const file = await this.#storage.files.getFile(fileId);
    if (!file || file.conversationId !== conversationId) throw new OutpostError('notFound', 'no such file in this conversation');
    return file.entry;
  }

  /** Forgets uploads no message carried within a week, and deletes blobs nothing refers to. */
  async cleanUp(now = Date.now()): Promise<{ files: number; blobs: number }> {
    const files = await this.#storage.files.deleteUnattached(now - UNATTACHED_TTL_MS);
    const blobs = await this.#storage.files.collectBlobs(now - BLOB_GRACE_MS);
    if (files + blobs > 0) this.#log.info('cleaned up files', { files, blobs });
    return { files, blobs };
  }

  async #storeFile(path: string, type: string, name: string, size: number, upload: Upload) {
    const key = await this.#put(path);
    return this.#record(upload, { id: upload.fileId, name, type, size }, { original: key, display: null, thumb: null });
  }

  async #storeImage(path: string, detected: Extract<Detected, { kind: 'image' }>, dir: string, name: string, upload: Upload) {
    const variants = await this.#withImageSlot(() => makeImageVariants(path, detected.output, dir, this.#limits.maxImagePixels));
    const original = await this.#put(variants.original.path);
    const display = variants.display ? await this.#put(variants.display.path) : null;
    const thumb = await this.#put(variants.thumb.path);
    const type = variants.original.type;
    // A name that says another format (a .avif kept as PNG, a .png that was a JPEG) is corrected.
    const extension = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
    const fitting = FITTING[type] ?? [];
    const fits = name.includes('.') && fitting.includes(extension);
    const size = (await stat(variants.original.path)).size;
    return this.#record(
      upload,
      {
        id: upload.fileId,
        name: fits || !fitting[0] ? name : cleanName(withExtension(name, fitting[0]), Limits.fileName),
        type,
        size,
        width: variants.width,
        height: variants.height,
        placeholder: variants.placeholder,
      },
      { original, display, thumb },
    );
  }

  #record(upload: Upload, entry: AttachmentEntry, blobs: FileRecord['blobs']) {
    return { entry, conversationId: upload.conversationId, uploader: upload.userId, blobs, createdAt: Date.now() };
  }

  /** Hashes the file at `path`, then stores it under that key. */
  async #put(path: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    const key = hash.digest('hex');
    await this.#storage.files.putBlob(key, () => createReadStream(path, { highWaterMark: 256 * 1024 }));
    return key;
  }

  #ownUpload(existing: FileRecord, upload: Upload): AttachmentEntry {
    if (existing.uploader !== upload.userId || existing.conversationId !== upload.conversationId) {
      throw new OutpostError('conflict', 'this file id is taken; upload under a new random id');
    }
    return existing.entry;
  }

  async #requireMember(conversationId: ConversationId, userId: UserId): Promise<void> {
    // Asked of storage every time: a member removed a moment ago, on any node, reads nothing more.
    if (!(await this.#storage.conversations.getMemberRole(conversationId, userId))) throw new OutpostError('forbidden', 'only members of this conversation can use its files');
  }

  async #withImageSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#imageSlots === 0) await new Promise<void>((resolve) => this.#waitingForSlot.push(resolve));
    else this.#imageSlots -= 1;
    try {
      return await work();
    } finally {
      const next = this.#waitingForSlot.shift();
      if (next) next();
      else this.#imageSlots += 1;
    }
  }
}

/** What the display size is: the original's type when it is the original, else a WebP (a GIF when animated). */
function displayType(file: FileRecord): string {
  if (!file.blobs.display || file.blobs.display === file.blobs.original) return file.entry.type;
  return file.entry.type === 'image/gif' ? 'image/gif' : 'image/webp';
}

/** Errors of this node's own disk while it writes an upload. */
const LOCAL_DISK_FAULTS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE']);

/** Streams `body` into a new file at `path`, stopping (tooLarge) past `maxBytes`; returns the size. */
async function spool(body: AsyncIterable<Uint8Array>, path: string, maxBytes: number): Promise<number> {
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      done(size > maxBytes ? tooLarge(maxBytes) : null, chunk);
    },
  });
  try {
    await pipeline(body, count, createWriteStream(path, { flags: 'wx' }));
  } catch (error) {
    if (error instanceof OutpostError) throw error;
    // The server's own disk failed (full, read-only, out of files): its fault, logged, and the
    // client sends the file again later; anything else is the upload breaking off.
    if (LOCAL_DISK_FAULTS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    throw new OutpostError('invalidInput', 'the upload broke off before its end; send it again', { received: size });
  }
  if (size === 0) throw new OutpostError('invalidInput', 'the file is empty');
  return size;
}

function tooLarge(maxBytes: number): OutpostError {
  return new OutpostError('tooLarge', `a file may be at most ${formatBytes(maxBytes)}`, { maxBytes });
}

function overQuota(used: number, quotaBytes: number): OutpostError {
  return new OutpostError('tooLarge', `your files take ${formatBytes(used)} of your ${formatBytes(quotaBytes)}; delete some messages with files first`, { usedBytes: used, quotaBytes });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
