// One WebSocket per signed-in client, multiplexing a Hocuspocus provider per document. The
// socket reconnects with backoff and jitter; every (re)connect authenticates with a fresh token.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { PROTOCOL_PARAM, PROTOCOL_VERSION, decodeRefusal, type Refusal } from '@outpost/shared-schema';

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
      options.onStatus(status);
      // connect() right after disconnect() finds the socket still closing and does nothing;
      // once it has closed, honour the latest wish.
      if (status === 'disconnected' && this.#wantOnline) void this.#socket.connect();
    });
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
    this.#wantOnline = false;
    for (const name of [...this.#providers.keys()]) this.detach(name);
    this.#socket.destroy();
  }
}

export { Awareness };
