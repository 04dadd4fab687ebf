// One WebSocket per signed-in client, multiplexing a Hocuspocus provider per document. The
// socket reconnects with backoff and jitter; every (re)connect authenticates with a fresh token.
//
// A socket can die in silence: the phone changed networks and the browser never said "offline".
// The provider notices only after 30 s without any message (~36 s in all), and what the person
// wrote meanwhile waits. So when something the node answers (an update, a sync step) has had no
// word back for PROBE_AFTER_MS, the SDK asks the node a question it answers from memory (a sync
// step 1 of the presence document, which holds no data: no database, and not queued behind a
// document's pending writes), and drops the socket if that too goes unanswered for PROBE_WAIT_MS.
// A node that is only slow (waiting on a stalled database) answers the probe at once, and keeps
// its clients. (Hocuspocus answers an awareness query only before a connection is set up.) No
// probe while a sync step 1 of ours awaits its answer: on a slow link a history may be on its way,
// ahead of any answer, and the provider's own check is what applies then.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { writeSyncStep1 } from 'y-protocols/sync';
import { PROTOCOL_PARAM, PROTOCOL_VERSION, decodeRefusal, type Refusal } from '@outpost/shared-schema';

/** An answered frame unheard of this long (nothing at all received since): probe the socket. */
const PROBE_AFTER_MS = 5_000;
/** The probe unanswered this long too: the socket is dead. */
const PROBE_WAIT_MS = 5_000;
/** The Hocuspocus message type of sync frames (updates, sync steps), which the node answers. */
const SYNC_MESSAGE = 0;
/** The document the probe asks about: it holds no data, so the node answers from memory. */
const PROBE_DOCUMENT = /^presence:/;

const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;

/** The address and sync message type (step 1, step 2, update) of a sync frame; null for any other frame. */
function syncFrame(frame: unknown): { address: string; step: number } | null {
  const bytes = frame instanceof Uint8Array ? frame : frame instanceof ArrayBuffer ? new Uint8Array(frame) : null;
  if (!bytes) return null;
  const decoder = decoding.createDecoder(bytes);
  try {
    const address = decoding.readVarString(decoder);
    if (decoding.readVarUint(decoder) !== SYNC_MESSAGE) return null;
    return { address, step: decoding.readVarUint(decoder) };
  } catch {
    return null; // not a provider's frame (a ping): nothing to wait for
  }
}

/** A sync step 1 of `provider`'s document, at its address (its routing key). */
function syncQuery(provider: HocuspocusProvider): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, provider.effectiveName);
  encoding.writeVarUint(encoder, SYNC_MESSAGE);
  writeSyncStep1(encoder, provider.document);
  return encoding.toUint8Array(encoder);
}

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

/** The server closed one document: why (the refusal's code decides what the SDK does). */
export interface DocumentRefusal extends Refusal {
  docName: string;
}

export interface SyncConnectionOptions {
  url: string;
  token: () => Promise<string>;
  onStatus: (status: ConnectionStatus) => void;
  /** The server closed one document's connection (refused update, access lost). */
  onRefused: (refusal: DocumentRefusal) => void;
  onSynced: (docName: string) => void;
  WebSocket?: unknown;
}

export class SyncConnection {
  readonly #socket: HocuspocusProviderWebsocket;
  readonly #providers = new Map<string, HocuspocusProvider>();
  readonly #options: SyncConnectionOptions;
  #status: ConnectionStatus = 'disconnected';
  #wantOnline = true;
  /** When the oldest answered frame still without any word back was sent (0: none waits). */
  #waitingSince = 0;
  /** When the probe was sent (0: not sent). */
  #probedAt = 0;
  /** Addresses whose sync step 1 awaits its answer (a history may be on its way). */
  readonly #askedFor = new Set<string>();
  readonly #deadCheck: ReturnType<typeof setInterval>;
  /** How many providers each document has had on this socket: the next one's session id. */
  readonly #sessions = new Map<string, number>();

  constructor(options: SyncConnectionOptions) {
    this.#options = options;
    const url = `${options.url.replace(/^http/, 'ws').replace(/\/$/, '')}/sync?${PROTOCOL_PARAM}=${PROTOCOL_VERSION}`;
    this.#socket = new HocuspocusProviderWebsocket({
      url,
      autoConnect: true,
      delay: 250,
      minDelay: 250,
      maxDelay: 10_000,
      factor: 2,
      jitter: true,
      maxAttempts: 0,
      ...(options.WebSocket ? { WebSocketPolyfill: options.WebSocket } : {}),
    });
    this.#socket.on('status', ({ status }: { status: ConnectionStatus }) => {
      this.#status = status;
      this.#heard();
      this.#askedFor.clear();
      options.onStatus(status);
      // connect() right after disconnect() finds the socket still closing and does nothing;
      // once it has closed, honour the latest wish.
      if (status === 'disconnected' && this.#wantOnline) void this.#socket.connect();
    });
    const send = this.#socket.send.bind(this.#socket);
    this.#socket.send = (message: unknown) => {
      const sync = syncFrame(message);
      if (sync && this.#status === 'connected') {
        this.#waitingSince ||= Date.now();
        if (sync.step === SYNC_STEP_1) this.#askedFor.add(sync.address);
      }
      send(message);
    };
    this.#socket.on('message', (event: { data?: unknown }) => {
      this.#heard();
      const sync = syncFrame(event.data);
      if (sync?.step === SYNC_STEP_2) this.#askedFor.delete(sync.address);
    });
    this.#deadCheck = setInterval(() => this.#checkAlive(), 1_000);
    (this.#deadCheck as { unref?: () => void }).unref?.();
  }

  #heard(): void {
    this.#waitingSince = 0;
    this.#probedAt = 0;
  }

  /** Probes a socket that has had no word back for a while, and drops it if the probe gets none either. */
  #checkAlive(): void {
    if (this.#status !== 'connected' || this.#waitingSince === 0) return;
    const now = Date.now();
    if (this.#probedAt === 0) {
      if (now - this.#waitingSince < PROBE_AFTER_MS || this.#askedFor.size > 0) return;
      const probe = [...this.#providers.entries()].find(([name]) => PROBE_DOCUMENT.test(name))?.[1];
      if (!probe) return; // nothing to ask: the provider's own check stays
      this.#probedAt = now;
      this.#socket.send(syncQuery(probe));
      return;
    }
    if (now - this.#probedAt < PROBE_WAIT_MS) return;
    this.#heard();
    const dead = this.#socket.webSocket;
    // As the provider's own check does once a close gets no answer: closed now, and reconnected.
    this.#socket.onClose({ event: { code: 4408, reason: 'no answer from the server' } as CloseEvent });
    dead?.close();
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Starts syncing a document over the shared socket. Idempotent. */
  attach(docName: string, document: Y.Doc, options: { awareness?: Awareness } = {}): HocuspocusProvider {
    const existing = this.#providers.get(docName);
    if (existing) return existing;
    const provider = new HocuspocusProvider({
      websocketProvider: this.#socket,
      name: docName,
      document,
      awareness: options.awareness ?? null,
      token: this.#options.token,
      // Each provider gets its own address (name + session id): when a refused document is
      // re-synced with a fresh copy, the old provider's closing message cannot reach the new one.
      sessionAwareness: true,
      onSynced: ({ state }) => {
        if (state) this.#options.onSynced(docName);
      },
      onClose: ({ event }) => {
        const refusal = decodeRefusal(event.reason ?? '');
        if (refusal) this.#options.onRefused({ docName, ...refusal });
        // A document closed on a live socket for a reason we do not know: sync it again.
        else if (this.#status === 'connected') this.#options.onRefused({ docName, kind: 'internal', code: 'retry', message: event.reason || 'closed by the server', retryAfterMs: 1_000 });
      },
      onAuthenticationFailed: ({ reason }) => {
        const refusal = decodeRefusal(reason) ?? { kind: 'internal' as const, code: 'retry' as const, message: reason, retryAfterMs: 2_000 };
        this.#options.onRefused({ docName, ...refusal });
      },
    });
    // Unique among this socket's providers of the document, which is all an address needs; the
    // provider's own (eleven random characters) would travel in every frame of the document, both
    // ways. Counted per document, the first provider of a document has the same address on every
    // device, so the server encodes a broadcast once for all of them, not once per member.
    const session = this.#sessions.get(docName) ?? 0;
    this.#sessions.set(docName, session + 1);
    provider.sessionId = session.toString(36);
    // A provider on a shared socket must be attached explicitly.
    provider.attach();
    this.#providers.set(docName, provider);
    return provider;
  }

  detach(docName: string): void {
    const provider = this.#providers.get(docName);
    if (!provider) return;
    this.#providers.delete(docName);
    provider.destroy();
  }

  isSynced(docName: string): boolean {
    return this.#providers.get(docName)?.synced ?? false;
  }

  /** True while any attached document has changes the server has not acknowledged. */
  get hasUnsyncedChanges(): boolean {
    for (const provider of this.#providers.values()) if (provider.hasUnsyncedChanges) return true;
    return false;
  }

  /** Goes offline on purpose: the socket closes and stays closed until `connect()`. */
  disconnect(): void {
    this.#wantOnline = false;
    this.#socket.disconnect();
  }

  connect(): void {
    this.#wantOnline = true;
    void this.#socket.connect();
  }

  destroy(): void {
    clearInterval(this.#deadCheck);
    this.#wantOnline = false;
    for (const name of [...this.#providers.keys()]) this.detach(name);
    this.#socket.destroy();
  }
}

export { Awareness };
