// Messages with files, from the composer to the conversation: the message and its files are in
// the replica at once (shown as pending, with the device's preview), the files upload when the
// server can be reached — one tab at a time, each file once (the server answers a retried id with
// what it stored) — and only then is the message written into its segment, naming the files as
// the server stored them. So a message never reaches the server before its files do.
import { OutpostError, type AttachmentEntry, type ConversationId, type MessageId } from '@outpost/shared-schema';
import type { Api } from '../connection/api.ts';
import { Derived, type Live } from '../live.ts';
import type { OutgoingFile, OutgoingMessage, ReplicaFiles } from '../replica/ReplicaFiles.ts';

/** How an outgoing message's upload is going. */
export interface UploadState {
  state: 'waiting' | 'uploading' | 'failed';
  /** Bytes of its files the server has, of `total`. */
  sent: number;
  total: number;
}

/** The server's limits for files, as it last said (defaults until then). */
export interface FileLimitsView {
  maxBytes: number;
}

export interface UploadsHost {
  api: Api;
  files: ReplicaFiles;
  /** Writes the message into its conversation (its files are on the server); returns false if it is there already. */
  deliver(message: OutgoingMessage, attachments: AttachmentEntry[]): void;
  /**
   * True when the message is in its conversation's documents already (delivered before a
   * restart), on this device or on the server; throws when the server cannot be asked.
   */
  delivered(message: OutgoingMessage): Promise<boolean>;
  /** Resolves once the replica's documents are loaded (so `delivered` can be trusted). */
  ready(): Promise<void>;
  /** Resolves once every change handed to the replica is stored. */
  stored(): Promise<void>;
  /** The BroadcastChannel that tabs sharing this replica tell each other of changes on; null when nothing is shared. */
  channel: string | null;
  limits(): FileLimitsView;
  /** Whether the server can be reached now (the socket is up); uploads wait for it otherwise. */
  online(): boolean;
  changed(conversationId: ConversationId): void;
}

/** Waits before trying again after a server fault, growing to a minute. */
const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

export class Uploads {
  readonly #host: UploadsHost;
  readonly #messages = new Map<MessageId, OutgoingMessage>();
  readonly #progress = new Map<MessageId, UploadState>();
  readonly #aborts = new Map<MessageId, AbortController>();
  readonly #channel: BroadcastChannel | null;
  #running: Promise<void> | null = null;
  #again = false;
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Outgoing messages being written to the replica (see stored). */
  readonly #saving = new Set<Promise<void>>();
  readonly #loaded: Promise<void>;
  readonly #live = new Derived<OutgoingMessage[]>(() => [...this.#messages.values()].sort((a, b) => a.createdAt - b.createdAt));

  constructor(host: UploadsHost) {
    this.#host = host;
    this.#channel = typeof BroadcastChannel === 'undefined' || host.channel === null ? null : new BroadcastChannel(host.channel);
    if (this.#channel) this.#channel.onmessage = () => void this.#reload().catch((error) => this.#failed(error));
    this.#loaded = this.#reload();
  }

  /** Every outgoing message, oldest first. */
  list(): Live<OutgoingMessage[]> {
    return this.#live;
  }

  #changed(conversationId: ConversationId): void {
    this.#live.invalidate();
    this.#host.changed(conversationId);
  }

  /** Outgoing messages of a conversation, oldest first. */
  in(conversationId: ConversationId): OutgoingMessage[] {
    return [...this.#messages.values()].filter((m) => m.conversationId === conversationId).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** An outgoing file by id (for its bytes and preview while it is not on the server). */
  file(fileId: string): OutgoingFile | undefined {
    for (const message of this.#messages.values()) for (const file of message.files) if (file.id === fileId) return file;
    return undefined;
  }

  progress(id: MessageId): UploadState {
    const message = this.#messages.get(id);
    const total = message?.files.reduce((sum, f) => sum + f.size, 0) ?? 0;
    if (message?.failure) return { state: 'failed', sent: 0, total };
    return this.#progress.get(id) ?? { state: 'waiting', sent: message?.files.reduce((sum, f) => sum + (f.uploaded ? f.size : 0), 0) ?? 0, total };
  }

  /** Stores a new outgoing message and starts uploading if the server can be reached. */
  async add(message: OutgoingMessage): Promise<void> {
    this.#messages.set(message.id, message);
    this.#changed(message.conversationId);
    await this.#save(message);
    this.#announce();
    this.kick();
  }

  /** Updates a stored outgoing message (its preview arrived). */
  async update(message: OutgoingMessage): Promise<void> {
    if (!this.#messages.has(message.id)) return;
    this.#messages.set(message.id, message);
    this.#changed(message.conversationId);
    await this.#save(message);
    this.#announce();
  }

  /** Gives up a message before it is sent: its upload stops and it is gone from this device. */
  async cancel(id: MessageId): Promise<void> {
    const message = this.#messages.get(id);
    this.#aborts.get(id)?.abort();
    this.#messages.delete(id);
    this.#progress.delete(id);
    await this.#host.files.dropOutgoing(id);
    if (message) this.#changed(message.conversationId);
    this.#announce();
  }

  /** Tries a failed message again. */
  async retry(id: MessageId): Promise<void> {
    const message = this.#messages.get(id);
    if (!message) return;
    delete message.failure;
    this.#failures = 0;
    await this.update({ ...message });
    this.kick();
  }

  /** Uploads what waits, now (the network came back, a message was added). */
  kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      await this.#loaded;
      do {
        this.#again = false;
        await this.#work();
      } while (this.#again && !this.#closed);
    })()
      .catch((error) => this.#failed(error))
      .finally(() => (this.#running = null));
  }

  /**
   * A round that threw: once closed, the replica's database is closed under it (the message is
   * still stored as outgoing, and the next start takes it up); otherwise it is tried again later.
   */
  #failed(error: unknown): void {
    if (this.#closed) return;
    console.warn('outpost: uploading waiting messages failed; trying again later', error);
    this.#later();
  }

  /** Resolves once every outgoing message handed in so far is written to the replica (before closing). */
  async stored(): Promise<void> {
    while (this.#saving.size > 0) await Promise.allSettled([...this.#saving]);
  }

  async #save(message: OutgoingMessage): Promise<void> {
    const saving = this.#host.files.saveOutgoing(message);
    this.#saving.add(saving);
    try {
      await saving;
    } finally {
      this.#saving.delete(saving);
    }
  }

  /** Resolves when nothing is being uploaded (tests, sign-out). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const abort of this.#aborts.values()) abort.abort();
    this.#channel?.close();
  }

  async #reload(): Promise<void> {
    // Only what was known before the read may be found gone: a message added while it ran (the
    // first read of a starting app, a message sent at once) may be missing from it, and was
    // dropped from the app until its next start.
    const known = new Set(this.#messages.keys());
    const stored = await this.#host.files.outgoing();
    if (this.#closed) return;
    const ids = new Set(stored.map((m) => m.id));
    const touched = new Set<ConversationId>();
    for (const [id, message] of this.#messages) {
      if (known.has(id) && !ids.has(id) && !this.#aborts.has(id)) {
        this.#messages.delete(id);
        touched.add(message.conversationId);
      }
    }
    for (const message of stored) {
      if (this.#aborts.has(message.id)) continue; // this tab is uploading it: its copy is newer
      this.#messages.set(message.id, message);
      touched.add(message.conversationId);
    }
    for (const id of touched) this.#changed(id);
  }

  #announce(): void {
    // Closed meanwhile (the app is closing): the other tabs read the replica when they next look.
    if (!this.#closed) this.#channel?.postMessage('changed');
  }

  async #work(): Promise<void> {
    for (const message of [...this.#messages.values()].sort((a, b) => a.createdAt - b.createdAt)) {
      if (this.#closed || !this.#host.online()) return;
      if (message.failure) continue;
      const outcome = await withLock(`outpost-upload:${message.id}`, () => this.#send(message.id));
      if (outcome === 'unreachable') return this.#later();
    }
    this.#failures = 0;
  }

  /** Uploads a message's files and delivers it; 'unreachable' stops the round. */
  async #send(id: MessageId): Promise<'done' | 'unreachable' | 'skipped'> {
    // Another tab may have sent or cancelled it meanwhile: the replica says, once what this tab
    // is storing is stored (a message sent a moment ago was read as gone, and dropped).
    await this.stored();
    const message = (await this.#host.files.outgoing()).find((m) => m.id === id);
    if (!message) {
      const gone = this.#messages.get(id);
      this.#messages.delete(id);
      if (gone) this.#changed(gone.conversationId);
      return 'skipped';
    }
    if (message.failure) return 'skipped';
    this.#messages.set(id, message);
    await this.#host.ready();
    if (this.#closed) return 'skipped';
    const delivered = await this.#host.delivered(message);
    // Closed while the server was asked (a restart, a sign-out): the conversation's documents are
    // gone, and the message stays stored as outgoing for the next start.
    if (this.#closed) return 'skipped';
    if (delivered) {
      await this.#finish(message);
      return 'done';
    }
    const total = message.files.reduce((sum, f) => sum + f.size, 0);
    let before = message.files.reduce((sum, f) => sum + (f.uploaded ? f.size : 0), 0);
    const abort = new AbortController();
    this.#aborts.set(id, abort);
    try {
      for (const file of message.files) {
        if (file.uploaded) continue;
        const { maxBytes } = this.#host.limits();
        if (file.size > maxBytes) return await this.#fail(message, `${file.name} is larger than the ${formatBytes(maxBytes)} a file may have`);
        this.#progress.set(id, { state: 'uploading', sent: before, total });
        this.#changed(message.conversationId);
        const path = `/api/conversations/${message.conversationId}/files/${file.id}?name=${encodeURIComponent(file.name)}`;
        const start = before;
        let reported = 0;
        const { body } = await this.#host.api.upload<AttachmentEntry>(
          path,
          file.data,
          (sent) => {
            this.#progress.set(id, { state: 'uploading', sent: start + Math.min(sent, file.size), total });
            // Progress events come often; the views need a few a second at most.
            if (Date.now() - reported > 150) {
              reported = Date.now();
              this.#changed(message.conversationId);
            }
          },
          abort.signal,
        );
        file.uploaded = body;
        before += file.size;
        if (!this.#messages.has(id) || this.#closed) return 'skipped'; // cancelled or closed meanwhile
        await this.#host.files.saveOutgoing(message);
      }
      if (this.#closed) return 'skipped';
      this.#host.deliver(message, message.files.map((f) => f.uploaded as AttachmentEntry));
      await this.#finish(message);
      return 'done';
    } catch (error) {
      if (!(error instanceof OutpostError)) throw error;
      if (error.details?.aborted) return 'skipped';
      if (error.details?.offline || error.kind === 'internal' || error.kind === 'rateLimited' || error.kind === 'unauthorized') return 'unreachable';
      return await this.#fail(message, error.message);
    } finally {
      this.#aborts.delete(id);
      this.#progress.delete(id);
      this.#changed(message.conversationId);
    }
  }

  async #finish(message: OutgoingMessage): Promise<void> {
    // The message is stored in its segment before it stops being stored as outgoing.
    await this.#host.stored();
    if (this.#closed) return; // dropped as outgoing at the next start, which finds it delivered
    this.#messages.delete(message.id);
    await this.#host.files.dropOutgoing(message.id);
    this.#changed(message.conversationId);
    this.#announce();
  }

  async #fail(message: OutgoingMessage, reason: string): Promise<'skipped'> {
    message.failure = reason;
    await this.#host.files.saveOutgoing(message);
    this.#announce();
    return 'skipped';
  }

  /** The server could not be reached or failed: try again later, waiting longer each time. */
  #later(): void {
    const wait = BACKOFF_MS[Math.min(this.#failures, BACKOFF_MS.length - 1)] as number;
    this.#failures += 1;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.kick(), wait * (0.75 + Math.random() / 2));
    (this.#timer as { unref?: () => void }).unref?.();
  }
}

/** Web Locks across tabs where the platform has them (a tab that finds it held skips); else none. */
async function withLock<T>(name: string, task: () => Promise<T>): Promise<T | 'skipped'> {
  const locks = (globalThis.navigator as { locks?: { request(name: string, options: { ifAvailable: boolean }, task: (lock: unknown) => Promise<T | 'skipped'>): Promise<T | 'skipped'> } } | undefined)
    ?.locks;
  if (!locks) return task();
  return locks.request(name, { ifAvailable: true }, (lock) => (lock ? task() : Promise.resolve('skipped' as const)));
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${+(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
