// One Hocuspocus socket per simulated client, multiplexing a provider per document as the SDK
// does (client/src/connection/SyncConnection.ts), without the SDK's replica and live views: the
// generator must spend its CPU on the wire, not on recomputing histories.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { decodeRefusal } from '@outpost/shared-schema';
import type { ClientEnvironment, ClientEvents } from './protocol.ts';

export interface OpenOptions {
  awareness?: Awareness;
  /**
   * Resolve only once the server has confirmed everything sent so far (no unsynced changes),
   * for protocols that count the server's sync-status replies as acknowledgements.
   */
  settled?: boolean;
}

/** How long a document may take to sync before the client reports it as failed. */
const SYNC_TIMEOUT_MS = 60_000;
/** The longest wait before syncing a document again after a `retry` refusal (as the SDK's). */
const RETRY_MAX_MS = 60_000;

export class ProviderSocket {
  readonly #socket: HocuspocusProviderWebsocket;
  readonly #providers: HocuspocusProvider[] = [];
  readonly #token: string;
  readonly #events: ClientEvents;
  readonly #sessionAwareness: boolean;
  /** How many providers each document has had on this socket (SyncConnection's session ids). */
  readonly #sessions = new Map<string, number>();
  #closed = false;

  /** `path` is appended to the server's ws:// URL (e.g. `/sync?v=1`). */
  constructor(environment: ClientEnvironment, path: string, token: string, events: ClientEvents, options: { sessionAwareness: boolean }) {
    this.#token = token;
    this.#events = events;
    this.#sessionAwareness = options.sessionAwareness;
    this.#socket = new HocuspocusProviderWebsocket({
      url: `${environment.url.replace(/^http/, 'ws').replace(/\/$/, '')}${path}`,
      WebSocketPolyfill: environment.WebSocket,
      autoConnect: true,
      delay: 250,
      minDelay: 250,
      maxDelay: 10_000,
      factor: 2,
      jitter: true,
      maxAttempts: 0,
    });
  }

  /**
   * Starts syncing `doc` as `name`; resolves once synced (and settled, if asked). A document the
   * server closes with a `retry` refusal (busy, overloaded) is synced again after the wait the
   * SDK keeps (client/src/recovery/Recovery.ts: the server's retryAfterMs, doubling with each try,
   * ±25%), so what it had not yet accepted is sent again, as the SDK does; any other close is
   * reported as a failure.
   */
  open(name: string, doc: Y.Doc, options: OpenOptions = {}): Promise<HocuspocusProvider> {
    return new Promise((resolve, reject) => {
      let done = false;
      let tries = 0;
      let provider: HocuspocusProvider;
      const timer = setTimeout(() => finish(new Error(`${name} did not sync within ${SYNC_TIMEOUT_MS / 1000} s`)), SYNC_TIMEOUT_MS);
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(provider);
      };
      const check = () => {
        if (provider.synced) tries = 0;
        if (provider.synced && (!options.settled || !provider.hasUnsyncedChanges)) finish();
      };
      const attach = () => {
        provider = new HocuspocusProvider({
          websocketProvider: this.#socket,
          name,
          document: doc,
          awareness: options.awareness ?? null,
          token: this.#token,
          sessionAwareness: this.#sessionAwareness,
          onClose: ({ event }) => {
            if (!event.reason || this.#closed) return;
            this.#events.refused(name, event.reason);
            const refusal = decodeRefusal(event.reason);
            if (refusal?.code !== 'retry') {
              finish(new Error(`${name} closed: ${event.reason}`));
              return;
            }
            tries += 1;
            const wait = Math.min(RETRY_MAX_MS, Math.max(refusal.retryAfterMs ?? 1_000, 250 * 2 ** Math.min(tries - 1, 8))) * (0.75 + Math.random() * 0.5);
            const refused = provider;
            this.#detach(refused);
            setTimeout(() => {
              if (!this.#closed) attach();
            }, wait);
          },
          onAuthenticationFailed: ({ reason }) => {
            if (this.#closed) return;
            this.#events.refused(name, reason);
            finish(new Error(`${name} refused: ${reason}`));
          },
        });
        provider.on('synced', check);
        provider.on('unsyncedChanges', check);
        // As the SDK does (SyncConnection.attach): a counter per document, not the provider's random id.
        const session = this.#sessions.get(name) ?? 0;
        this.#sessions.set(name, session + 1);
        provider.sessionId = session.toString(36);
        provider.attach();
        this.#providers.push(provider);
      };
      attach();
    });
  }

  #detach(provider: HocuspocusProvider): void {
    const index = this.#providers.indexOf(provider);
    if (index >= 0) this.#providers.splice(index, 1);
    provider.destroy();
  }

  close(): void {
    this.#closed = true;
    for (const provider of this.#providers.splice(0)) provider.destroy();
    this.#socket.destroy();
  }
}
