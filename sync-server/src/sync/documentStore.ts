// Loads documents from the update log and brings server-owned views in line as they load;
// compacts logs in storage (never from a node's memory). Writes go through the write path.
import * as Y from 'yjs';
import type { Document, Extension, onCreateDocumentPayload, onLoadDocumentPayload } from '@hocuspocus/server';
import * as time from 'lib0/time';
import { outdatedTimeout, removeAwarenessStates, type Awareness } from 'y-protocols/awareness';
import { parseDocName, unreachable } from '@outpost/shared-schema';
import type { UpdateLog } from '@outpost/storage';
import type { Coordinator } from '../coordination/Coordinator.ts';
import type { Logger } from '../log.ts';
import type { LoadedDocuments } from './documents.ts';
import { InFlight } from './inFlight.ts';
import type { ServerDocuments } from './serverDocuments.ts';
import type { WritePath } from './writePath.ts';
import { compactsAt, mergeCollected } from './compaction.ts';

/** Compacts one document's log in storage (see UpdateLog.compact). */
export type Compactor = (documentName: string) => Promise<void>;

export class DocumentStore implements Extension {
  extensionName = 'OutpostDocumentStore';
  readonly #logger: Logger;
  readonly #documents: LoadedDocuments;
  readonly #serverDocuments: ServerDocuments;
  readonly #coordinator: Coordinator;
  readonly #writePath: WritePath;
  readonly #compactor: Compactor;
  /** Documents being loaded: Hocuspocus lists a document only once it has loaded, and a change
   *  made meanwhile (a role, another node's entry) must reach it too. */
  readonly #loading = new Map<string, Y.Doc>();
  /** Per document, the latest compaction asked for (each runs after the one before it). */
  readonly #compacting = new Map<string, Promise<void>>();
  /** Loads and compactions under way, awaited by `flush()`. */
  readonly #work = new InFlight();

  /** `compactor`: where compaction runs (on SQLite the commit worker); the log's own compact by default. */
  constructor(options: { log: UpdateLog; logger: Logger; documents: LoadedDocuments; serverDocuments: ServerDocuments; coordinator: Coordinator; writePath: WritePath; compactor?: Compactor }) {
    this.#coordinator = options.coordinator;
    this.#writePath = options.writePath;
    this.#logger = options.logger;
    this.#documents = options.documents;
    this.#serverDocuments = options.serverDocuments;
    this.#compactor = options.compactor ?? ((documentName) => options.log.compact(documentName, mergeCollected));
  }

  /**
   * The document's Yjs options: named by the document. Without a guid Yjs draws a random UUID
   * (31 calls of crypto.getRandomValues, ~0.25 ms of a node's CPU per document loaded); the guid
   * means nothing else to a document without subdocuments.
   */
  async onCreateDocument({ documentName }: onCreateDocumentPayload): Promise<{ guid: string }> {
    return { guid: documentName };
  }

  onLoadDocument(payload: onLoadDocumentPayload): Promise<void> {
    this.#loading.set(payload.documentName, payload.document);
    return this.#tracked(this.#load(payload)).catch((error: unknown) => {
      this.#loading.delete(payload.documentName);
      throw error;
    });
  }

  /** Hocuspocus lists the document from now on. */
  async afterLoadDocument({ documentName }: { documentName: string }): Promise<void> {
    this.#loading.delete(documentName);
  }

  /** A document being loaded, so that changes made meanwhile reach it (they wait for its lock). */
  loading(name: string): Y.Doc | undefined {
    return this.#loading.get(name);
  }

  async #load({ documentName, document }: onLoadDocumentPayload): Promise<void> {
    const name = parseDocName(documentName);
    if (!name) return;
    if (name.kind === 'presence') return sweptTogether(document); // presence is awareness only
    dropAwareness(document);
    await this.#coordinator.watch(documentName);
    // Under the document's lock: an entry or server write that reached the loading copy first
    // is not undone by an older read of the log.
    await this.#writePath.exclusive(documentName, () => this.#documents.load(documentName, document));
    switch (name.kind) {
      case 'segment':
        return this.#serverDocuments.reconcileSegment(name.conversationId, name.segment, document);
      case 'server':
        return this.#serverDocuments.reconcileServer(name.conversationId, document);
      case 'inbox':
        return this.#serverDocuments.reconcileInbox(name.userId, document);
      case 'user':
        return;
      default:
        unreachable(name);
    }
  }

  /** An entry was committed at `version`: compact every COMPACT_AFTER entries (see compactsAt). */
  committed(documentName: string, version: number): void {
    if (compactsAt(documentName, version)) this.#compactSoon(documentName);
  }

  async afterUnloadDocument({ documentName }: { documentName: string }): Promise<void> {
    this.#coordinator.unwatch(documentName);
  }

  /** Resolves when no load or compaction runs. */
  async flush(): Promise<void> {
    await this.#work.settled();
  }

  #tracked<T>(work: Promise<T>): Promise<T> {
    return this.#work.track(work);
  }

  #compactSoon(documentName: string): void {
    if (this.#compacting.has(documentName)) return;
    void this.compact(documentName);
  }

  /**
   * Compacts the document's log now: everything committed before this call ends up in the new
   * base, garbage-collected (a compaction already running may have read the log before it, so
   * this one runs after it). Never rejects; a failure is logged and the log stays intact.
   */
  compact(documentName: string): Promise<void> {
    const previous = this.#compacting.get(documentName) ?? Promise.resolve();
    const next = this.#tracked(
      previous.then(() =>
        this.#compactor(documentName).catch((error: unknown) => this.#logger.error('compaction failed; the log is intact', { documentName, error })),
      ),
    );
    this.#compacting.set(documentName, next);
    void next.finally(() => {
      if (this.#compacting.get(documentName) === next) this.#compacting.delete(documentName);
    });
    return next;
  }
}

/** A map that stays empty: whatever is set on it is dropped. */
class EmptyMap<K, V> extends Map<K, V> {
  override set(): this {
    return this;
  }
}

/**
 * The awareness of every document that has none. Only presence documents accept awareness
 * (SyncEngine.beforeHandleAwareness empties every update sent to another document), yet every
 * Hocuspocus document builds its own y-protocols Awareness: two maps, listeners and a 3-second
 * interval, ~1.4 KB, and with a user document and an inbox open per client, two per connection.
 * This one holds no state, so what Hocuspocus does with it (send the current states to a new
 * connection, answer an awareness query, apply an emptied update, listen for changes) finds
 * nothing to send and keeps nothing.
 */
const NO_AWARENESS = {
  clientID: 0,
  states: new EmptyMap<number, Record<string, unknown>>(),
  meta: new EmptyMap<number, { clock: number; lastUpdated: number }>(),
  getStates(): Map<number, Record<string, unknown>> {
    return this.states;
  },
  getLocalState: () => null,
  setLocalState: () => undefined,
  setLocalStateField: () => undefined,
  on: () => undefined,
  once: () => undefined,
  off: () => undefined,
  emit: () => undefined,
  destroy: () => undefined,
};

/**
 * Gives a document that has no awareness the shared empty one, and lets its own go: its timer
 * stopped and its listener on the document removed, nothing else refers to it. Called while the
 * document loads, before any connection is added: the notice its own awareness queued when
 * Hocuspocus emptied it is flushed to nobody, so nothing is ever encoded from the empty one.
 * Should a yjs or y-protocols upgrade add another `destroy` listener, the document keeps its
 * own awareness, only stopped, rather than lose a listener that is not the awareness's.
 */
function dropAwareness(document: Document): void {
  const own = document.awareness as (Awareness & { _checkInterval?: ReturnType<typeof setInterval> }) | undefined;
  if (!own || (own as unknown) === NO_AWARENESS) return;
  clearInterval(own._checkInterval);
  const observers = (document as unknown as { _observers: Map<string, Set<unknown>> })._observers;
  if (observers.get('destroy')?.size !== 1 || own.getStates().size > 0 || document.getConnectionsCount() > 0) return;
  observers.delete('destroy');
  document.flush();
  document.awareness = NO_AWARENESS as unknown as Awareness;
}

/** How often presence documents' awareness is swept for silent clients (y-protocols' own period). */
const AWARENESS_SWEEP_MS = outdatedTimeout / 10;
const sweptAwareness = new Set<Awareness>();
let awarenessSweep: ReturnType<typeof setInterval> | null = null;

/**
 * Times out the silent clients of every presence document in one interval, instead of each
 * document's Awareness running its own: with a presence document per connected user, those were
 * hundreds of timer wake-ups a second on an idle node (~670 a second with 2,000 clients). The
 * sweep does what each interval did: it renews the document's own state if it has one (Hocuspocus
 * sets none) and removes every other client's state not renewed within y-protocols'
 * `outdatedTimeout`.
 */
function sweptTogether(document: Document): void {
  const awareness = document.awareness as Awareness & { _checkInterval?: ReturnType<typeof setInterval> };
  clearInterval(awareness._checkInterval);
  sweptAwareness.add(awareness);
  awareness.on('destroy', () => {
    sweptAwareness.delete(awareness);
    if (sweptAwareness.size === 0 && awarenessSweep) {
      clearInterval(awarenessSweep);
      awarenessSweep = null;
    }
  });
  if (!awarenessSweep) {
    awarenessSweep = setInterval(sweepAwareness, AWARENESS_SWEEP_MS);
    awarenessSweep.unref();
  }
}

function sweepAwareness(): void {
  // y-protocols' clock (lib0's, bound to Date.now when loaded), the one `lastUpdated` is read on.
  const now = time.getUnixTime();
  for (const awareness of sweptAwareness) {
    const own = awareness.getLocalState();
    if (own !== null && outdatedTimeout / 2 <= now - (awareness.meta.get(awareness.clientID)?.lastUpdated ?? 0)) awareness.setLocalState(own);
    const silent: number[] = [];
    for (const [clientId, meta] of awareness.meta) {
      if (clientId !== awareness.clientID && outdatedTimeout <= now - meta.lastUpdated && awareness.states.has(clientId)) silent.push(clientId);
    }
    if (silent.length > 0) removeAwarenessStates(awareness, silent, 'timeout');
  }
}
