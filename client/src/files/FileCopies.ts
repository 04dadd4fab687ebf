// The bytes of attached files on this device: a file still waiting to upload is read from the
// replica (its device-made preview stands in for the thumbnail); anything else is fetched from
// the server with the access token once and kept — every thumbnail (so conversations show their
// pictures offline), and full-size images that were viewed, within the replica's budget.
import type { AttachmentEntry, ConversationId } from '@outpost/shared-schema';
import type { Api } from '../connection/api.ts';
import { Derived, type Live } from '../live.ts';
import type { CacheUsage, OutgoingFile, ReplicaFiles } from '../replica/ReplicaFiles.ts';

/** The stored forms of a file: images have a display size and a thumbnail besides the original. */
export type FileVariant = 'original' | 'display' | 'thumb';

/** Types the server re-encodes and shows inline; only these have a thumbnail and a display size. */
export function isImage(attachment: Pick<AttachmentEntry, 'type' | 'width'>): boolean {
  return attachment.width !== undefined && ['image/jpeg', 'image/png', 'image/webp', 'image/gif'].includes(attachment.type);
}

export class FileCopies {
  readonly #api: Api;
  readonly #files: ReplicaFiles;
  readonly #outgoing: (fileId: string) => OutgoingFile | undefined;
  readonly #fetching = new Map<string, Promise<Blob | null>>();
  readonly #refused = new Set<string>();
  #kept: Promise<Set<string>> | null = null;
  readonly #usage: Derived<CacheUsage | null>;
  #usageValue: CacheUsage | null = null;
  #usageRead = false;

  constructor(api: Api, files: ReplicaFiles, outgoing: (fileId: string) => OutgoingFile | undefined) {
    this.#api = api;
    this.#files = files;
    this.#outgoing = outgoing;
    this.#usage = new Derived(() => this.#usageValue);
  }

  /**
   * The bytes of `attachment` as `variant`: from this device when it has them, else from the
   * server (and kept). Null when they are neither here nor reachable (offline).
   */
  async get(conversationId: ConversationId, attachment: AttachmentEntry, variant: FileVariant): Promise<Blob | null> {
    const pending = this.#outgoing(attachment.id);
    if (pending) return variant === 'thumb' ? (pending.preview?.blob ?? null) : pending.data;
    const key = `${attachment.id}/${variant}`;
    const kept = await this.#files.kept(key);
    if (kept) return kept;
    // The original, kept already, serves as the display size too.
    if (variant === 'display') {
      const original = await this.#files.kept(`${attachment.id}/original`);
      if (original) return original;
    }
    let fetching = this.#fetching.get(key);
    if (!fetching) {
      fetching = this.#fetch(conversationId, attachment.id, variant, key).finally(() => this.#fetching.delete(key));
      this.#fetching.set(key, fetching);
    }
    return fetching;
  }

  /** Fetches and keeps the thumbnails of `attachments` this device lacks, one at a time. */
  async keepThumbnails(attachments: readonly { conversationId: ConversationId; attachment: AttachmentEntry }[]): Promise<void> {
    const kept = await this.#keptKeys();
    for (const { conversationId, attachment } of attachments) {
      const key = `${attachment.id}/thumb`;
      if (!isImage(attachment) || kept.has(key) || this.#refused.has(key) || this.#outgoing(attachment.id)) continue;
      try {
        if ((await this.get(conversationId, attachment, 'thumb')) === null) return; // offline: another time
      } catch {
        // Refused (the file was deleted, or access lost): not asked again while this client runs.
        this.#refused.add(key);
      }
    }
  }

  /** What the kept copies take, and the budget for full-size ones. */
  usage(): Live<CacheUsage | null> {
    // Read once here, then again after each copy is kept (not on every call: views call it often).
    if (!this.#usageRead) {
      this.#usageRead = true;
      void this.#refreshUsage();
    }
    return this.#usage;
  }

  async #fetch(conversationId: ConversationId, fileId: string, variant: FileVariant, key: string): Promise<Blob | null> {
    let blob: Blob;
    try {
      blob = await this.#api.download(`/api/conversations/${conversationId}/files/${fileId}/${variant}`);
    } catch (error) {
      if ((error as { details?: { offline?: boolean } }).details?.offline) return null;
      throw error;
    }
    await this.#files.keep(key, blob, variant === 'thumb' ? 'thumb' : 'full');
    (await this.#keptKeys()).add(key);
    void this.#refreshUsage();
    return blob;
  }

  #keptKeys(): Promise<Set<string>> {
    this.#kept ??= this.#files.keptKeys().then((keys) => new Set(keys));
    return this.#kept;
  }

  async #refreshUsage(): Promise<void> {
    this.#usageValue = await this.#files.usage();
    this.#usage.invalidate();
  }
}
