// Notices between nodes over Redis pub/sub (ioredis). One channel per document carries appends
// to the nodes that hold it; one channel carries control notices, one presence. Redis only ever
// speeds things up: publishing never waits for it, and when it comes back after a gap every
// node catches up from the log. Sequence numbers never come from here. A Redis that goes silent
// (a stalled network, a stuck server: the connection stays open and nothing fails) counts as
// away: each connection is pinged every second, and one that does not answer within
// SILENT_AFTER_MS is dropped and reconnected, so the shared rate limits fall back to this node's
// own at once instead of holding every update until Redis speaks again.
//
// Our own pub/sub rather than @hocuspocus/extension-redis: that extension relays updates and
// persists under a Redis lock, and its store can drop an edit when a store outlasts its lock;
// here persistence stays the write path's, and a notice is only a hint to read the log.
import { randomUUID } from 'node:crypto';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import type { AppendNotice, ControlNotice, Coordinator, CoordinatorHandlers, PresenceNotice } from './Coordinator.ts';

const DOC_PREFIX = 'outpost:doc:';
const CONTROL = 'outpost:control';
const PRESENCE = 'outpost:presence';
/** Entries up to this size travel in the notice; bigger ones are read from the log. */
const INLINE_BYTES = 64 * 1024;
/** How often each connection is pinged. */
const HEARTBEAT_MS = 1_000;
/** A command (a ping included) unanswered this long fails, and its connection counts as away. */
const SILENT_AFTER_MS = 1_500;

export class RedisCoordinator implements Coordinator {
  readonly nodeId = randomUUID();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #log: Logger;
  readonly #watched = new Set<string>();
  #handlers: CoordinatorHandlers | null = null;
  #wasDown = false;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(url: string, log: Logger) {
    this.#log = log;
    const options = {
      // Never queue or retry a command while Redis is away: a notice later than "now" is useless.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(200 * times, 2_000),
      lazyConnect: true,
      commandTimeout: SILENT_AFTER_MS,
    };
    this.#publisher = new Redis(url, options);
    this.#subscriber = new Redis(url, { ...options, autoResubscribe: true });
  }

  /** The publishing connection also counts shared rate limits. */
  get store(): Redis {
    return this.#publisher;
  }

  get connected(): boolean {
    return this.#publisher.status === 'ready' && this.#subscriber.status === 'ready';
  }

  async start(handlers: CoordinatorHandlers): Promise<void> {
    this.#handlers = handlers;
    for (const client of [this.#publisher, this.#subscriber]) {
      client.on('error', (error: Error) => this.#log.debug('redis error', { error: error.message }));
      client.on('close', () => {
        if (!this.#wasDown) this.#log.warn('redis is away: nodes serve their own clients; cross-node delivery resumes when it returns');
        this.#wasDown = true;
      });
      client.on('ready', () => this.#ready());
    }
    this.#subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#receive(channel.toString(), message));
    // A node starts without Redis if it must; the connection is retried in the background.
    await Promise.allSettled([this.#publisher.connect(), this.#subscriber.connect()]);
    if (this.connected) await this.#subscriber.subscribe(CONTROL, PRESENCE).catch(() => undefined);
    this.#heartbeat = setInterval(() => this.#checkAnswers(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Pings each open connection; one that stays silent is dropped and reconnected (see the top). */
  #checkAnswers(): void {
    for (const client of [this.#publisher, this.#subscriber]) {
      if (client.status !== 'ready') continue;
      client.ping().catch((error: unknown) => {
        if (client.status !== 'ready') return;
        this.#log.warn('redis does not answer: dropping the connection and trying again; meanwhile nodes serve their own clients', {
          error: (error as Error).message,
        });
        client.disconnect(true);
      });
    }
  }

  #ready(): void {
    if (!this.connected) return;
    void this.#subscriber.subscribe(CONTROL, PRESENCE, ...[...this.#watched].map((doc) => DOC_PREFIX + doc)).catch(() => undefined);
    if (this.#wasDown) {
      this.#wasDown = false;
      this.#log.info('redis is back: catching up from the log');
      this.#handlers?.resumed();
    }
  }

  async watch(doc: string): Promise<void> {
    if (this.#watched.has(doc)) return;
    this.#watched.add(doc);
    // Subscribed before the document is read from the log, so no append falls in between.
    if (this.connected) await this.#subscriber.subscribe(DOC_PREFIX + doc).catch(() => undefined);
  }

  unwatch(doc: string): void {
    if (!this.#watched.delete(doc)) return;
    if (this.connected) void this.#subscriber.unsubscribe(DOC_PREFIX + doc).catch(() => undefined);
  }

  announceAppend(notice: AppendNotice): void {
    const encoder = encoding.createEncoder();
    encoding.writeVarString(encoder, this.nodeId);
    encoding.writeVarUint(encoder, notice.version);
    const inline = notice.update && notice.update.byteLength <= INLINE_BYTES ? notice.update : null;
    encoding.writeVarUint(encoder, inline ? 1 : 0);
    if (inline) encoding.writeVarUint8Array(encoder, inline);
    this.#publish(DOC_PREFIX + notice.doc, Buffer.from(encoding.toUint8Array(encoder)));
  }

  announceControl(notice: ControlNotice): void {
    this.#publish(CONTROL, Buffer.from(JSON.stringify({ node: this.nodeId, notice })));
  }

  announcePresence(notice: PresenceNotice): void {
    this.#publish(PRESENCE, Buffer.from(JSON.stringify({ node: this.nodeId, notice })));
  }

  async close(): Promise<void> {
    this.#handlers = null;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }

  #publish(channel: string, message: Buffer): void {
    if (!this.connected) return;
    this.#publisher.publish(channel, message).catch((error: unknown) => this.#log.debug('a notice was not published', { channel, error }));
  }

  #receive(channel: string, message: Buffer): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    try {
      if (channel.startsWith(DOC_PREFIX)) {
        const decoder = decoding.createDecoder(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
        if (decoding.readVarString(decoder) === this.nodeId) return;
        const version = decoding.readVarUint(decoder);
        const update = decoding.readVarUint(decoder) === 1 ? decoding.readVarUint8Array(decoder).slice() : null;
        handlers.append({ doc: channel.slice(DOC_PREFIX.length), version, update });
        return;
      }
      const { node, notice } = JSON.parse(message.toString()) as { node: string; notice: unknown };
      if (node === this.nodeId) return;
      if (channel === CONTROL) handlers.control(notice as ControlNotice);
      else if (channel === PRESENCE) handlers.presence(notice as PresenceNotice);
    } catch (error) {
      // A malformed notice is dropped: the log stays the truth.
      this.#log.warn('dropped a malformed notice', { channel, error });
    }
  }
}
