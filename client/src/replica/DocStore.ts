// The seam between the in-memory documents and where they persist: every change to a document
// (local or remote) is handed to the persistence in the same tick, tagged with the user
// operation that caused it, so the replica can store both in one transaction.
import * as Y from 'yjs';
import { SegmentRoots, parseDocName } from '@outpost/shared-schema';
import type { PendingOperation } from './PendingOperation.ts';
import type { ReplicaFiles } from './ReplicaFiles.ts';
import type { SearchStore } from '../search/SearchStore.ts';

/** Where a replica keeps document state between runs. */
export interface ReplicaPersistence {
  /** Files waiting to upload and copies of served files; without it they live in memory. */
  readonly files?: ReplicaFiles;
  /** Where the local search index persists; without it, it is built from the documents each run. */
  readonly search?: SearchStore;
  /** Everything stored for the document, as updates to apply in any order (Yjs merges them). */
  load(docName: string): Promise<Uint8Array[]>;
  /**
   * Called for every change to the document (local or remote), in order, in the tick it
   * happened. With `operation`, the operation is recorded as pending in the same transaction.
   */
  append(docName: string, update: Uint8Array, operation?: PendingOperation): Promise<void>;
  /** The operations recorded by `append` and not yet settled. */
  pendingOperations(): Promise<PendingOperation[]>;
  /** Forgets operations the server has acknowledged. */
  settle(keys: readonly string[]): Promise<void>;
  /** The names of the documents stored. */
  documents(): Promise<string[]>;
  /** A small value kept with the replica (e.g. the conversation last on screen). */
  recall(key: string): Promise<unknown>;
  remember(key: string, value: unknown): Promise<void>;
  /**
   * Merges what is stored for a document into one garbage-collected state. Called when a
   * message's text was removed (a deletion arrived), so the stored updates that carried the
   * text go too. Optional: a persistence that keeps nothing has nothing to compact.
   */
  compact?(docName: string): Promise<void>;
  /** Replaces everything stored for a document with `state`, in one transaction (quarantine). */
  replace(docName: string, state: Uint8Array): Promise<void>;
  /** Deletes everything stored (signing out). */
  clear(): Promise<void>;
}

/** Keeps nothing: a replica that lives as long as the process. */
export const memoryOnly: ReplicaPersistence = {
  load: async () => [],
  append: async () => {},
  pendingOperations: async () => [],
  settle: async () => {},
  documents: async () => [],
  recall: async () => undefined,
  remember: async () => {},
  replace: async () => {},
  clear: async () => {},
};

/** Told of a document opened; may return what undoes its work when the document closes. */
export type OpenListener = (name: string, doc: Y.Doc) => (() => void) | void;

/** One Y.Doc per document name, loaded once from persistence and kept in step with it. */
export class DocStore {
  readonly #persistence: ReplicaPersistence;
  readonly #docs = new Map<string, Y.Doc>();
  readonly #loading = new Map<string, Promise<Y.Doc>>();
  readonly #writes = new Set<Promise<unknown>>();
  readonly #openListeners = new Set<OpenListener>();
  readonly #changeListeners = new Set<(name: string, update: Uint8Array, origin: unknown) => void>();
  /** Per open document, what its open listeners undo when it closes. */
  readonly #cleanups = new Map<Y.Doc, (() => void)[]>();
  /** Documents asked to close and not opened again since (an `open` while closing keeps it). */
  readonly #closing = new Set<string>();
  readonly #onError: (error: unknown, docName: string) => void;
  #operation: PendingOperation | undefined;
  readonly #queue: (() => Promise<void>)[] = [];
  #active = 0;
  /** Loads not yet started wait for this (see holdLoads). */
  #held: Promise<unknown> | undefined;
  #destroyed = false;

  constructor(persistence: ReplicaPersistence, onError: (error: unknown, docName: string) => void = reportToConsole) {
    this.#persistence = persistence;
    // Once destroyed the replica is closed under whatever still runs: its errors say nothing.
    this.#onError = (error, docName) => {
      if (!this.#destroyed) onError(error, docName);
    };
  }

  /** The document if it is in memory already. */
  peek(name: string): Y.Doc | undefined {
    return this.#docs.get(name);
  }

  /** Returns the document, in memory at once; persisted state is applied as it loads. */
  open(name: string): Y.Doc {
    const existing = this.#docs.get(name);
    if (existing) {
      this.#closing.delete(name);
      return existing;
    }
    // Named by its document: without a guid Yjs draws a random UUID, 31 calls of
    // crypto.getRandomValues, ~0.35 ms a document in Chromium (a cold start opens one per segment).
    const doc = new Y.Doc({ gc: true, guid: name });
    this.#docs.set(name, doc);
    // Listen before loading: a write made while the replica is still loading must be stored too.
    const applyStored = this.#store(name, doc);
    this.#loading.set(
      name,
      // Destroyed before its turn: not loaded (what waits on it goes on at once, with the empty document).
      this.#queued(() =>
        (this.#destroyed ? Promise.resolve([]) : this.#persistence.load(name)).then(
          (updates) => {
            if (!this.#destroyed) applyStored(updates);
            return doc;
          },
          (error: unknown) => {
            // The server still has the document: syncing rebuilds it, so the user is not stuck.
            this.#onError(error, name);
            return doc;
          },
        ),
      ),
    );
    this.#opened(name, doc);
    return doc;
  }

  #opened(name: string, doc: Y.Doc): void {
    for (const listener of this.#openListeners) this.#listen(listener, name, doc);
  }

  #listen(listener: OpenListener, name: string, doc: Y.Doc): void {
    const cleanup = listener(name, doc);
    if (!cleanup) return;
    const list = this.#cleanups.get(doc);
    if (list) list.push(cleanup);
    else this.#cleanups.set(doc, [cleanup]);
  }

  /**
   * Takes a document out of memory once its changes are stored: what listened to it stops, and
   * the next `open` loads it from the replica again. The caller must have ended its
   * subscription and must not hold the Y.Doc any more.
   */
  async close(name: string): Promise<void> {
    const doc = this.#docs.get(name);
    if (!doc) return;
    this.#closing.add(name);
    await this.#loading.get(name);
    await this.flushed();
    // Opened again (or replaced) meanwhile: someone holds it.
    if (!this.#closing.delete(name) || this.#docs.get(name) !== doc) return;
    this.#docs.delete(name);
    this.#loading.delete(name);
    for (const cleanup of this.#cleanups.get(doc) ?? []) cleanup();
    this.#cleanups.delete(doc);
    doc.destroy();
  }

  /**
   * Hands every change of `doc` to persistence, in the tick it happens. Returns the function that
   * applies what the replica holds of it.
   */
  #store(name: string, doc: Y.Doc): (updates: Uint8Array[]) => void {
    // A message entry replaced (by the server's tombstone) means a deletion removed its text: the
    // stored updates that carried it are merged away once this change is stored. Type observers
    // run before the document's 'update' event, so the flag is set when the update is stored.
    let textRemoved = false;
    if (parseDocName(name)?.kind === 'segment') {
      doc.getMap(SegmentRoots.messages).observe((event) => {
        for (const change of event.changes.keys.values()) if (change.action !== 'add') textRemoved = true;
      });
    }
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      const compact = textRemoved;
      textRemoved = false;
      if (this.#docs.get(name) !== doc || origin === PERSISTENCE_ORIGIN) return;
      for (const listener of this.#changeListeners) listener(name, update, origin);
      const operation = this.#operation;
      this.#operation = undefined; // one record per operation, however many updates it makes
      const write = this.#persistence
        .append(name, update, operation)
        .then(() => (compact ? this.#persistence.compact?.(name) : undefined))
        .catch((error: unknown) => this.#onError(error, name));
      this.#track(write);
    };
    doc.on('update', onUpdate);
    return (updates) => {
      // Without an 'update' listener Yjs does not encode the change again: a loaded segment is
      // applied once, not applied and re-encoded for listeners that would drop it (a third of
      // the time a cold start takes to show the latest messages). Listeners that need to know
      // watch the transaction ('afterTransaction') or the maps instead.
      doc.off('update', onUpdate);
      try {
        Y.transact(doc, () => updates.forEach((u) => Y.applyUpdate(doc, u)), PERSISTENCE_ORIGIN);
      } finally {
        doc.on('update', onUpdate);
      }
      const compact = textRemoved;
      textRemoved = false;
      // Stored before it was merged (the app stopped in between): merge it now.
      if (compact && this.#docs.get(name) === doc) void this.#persistence.compact?.(name).catch((error: unknown) => this.#onError(error, name));
    };
  }

  /**
   * Makes `doc` the document called `name`, here and in the replica (whose stored state is
   * replaced by `doc`'s in one transaction). Used to drop a quarantined copy; the old Y.Doc is
   * destroyed, so its holders must switch to the new one first.
   */
  replace(name: string, doc: Y.Doc): void {
    const old = this.#docs.get(name);
    this.#docs.set(name, doc);
    this.#loading.set(name, Promise.resolve(doc));
    this.#store(name, doc);
    const write = this.#persistence.replace(name, Y.encodeStateAsUpdate(doc)).catch((error: unknown) => this.#onError(error, name));
    this.#track(write);
    this.#opened(name, doc);
    if (old) {
      for (const cleanup of this.#cleanups.get(old) ?? []) cleanup();
      this.#cleanups.delete(old);
      old.destroy();
    }
  }

  /**
   * Loads run a few at a time, in the order documents were opened: a cold start that opens a
   * whole history gets the newest segment first and gives the page a turn between documents,
   * instead of applying hundreds of them in one blocking burst.
   */
  #queued<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => task().then(resolve, reject));
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#held) return;
    while (this.#active < LOAD_CONCURRENCY && this.#queue.length > 0) {
      const next = this.#queue.shift() as () => Promise<void>;
      this.#active += 1;
      void next().finally(() => {
        this.#active -= 1;
        this.#pump();
      });
    }
  }

  /**
   * Loads not started yet wait until `until` settles (those running finish): work that needs the
   * main thread and the replica for a moment comes before the background loading of history.
   */
  holdLoads(until: Promise<unknown>): void {
    const held = until.then(
      () => undefined,
      () => undefined,
    );
    this.#held = held;
    void held.then(() => {
      if (this.#held !== held) return;
      this.#held = undefined;
      this.#pump();
    });
  }

  /** Resolves when the document's persisted state is applied. */
  loaded(name: string): Promise<Y.Doc> {
    return this.#loading.get(name) ?? Promise.resolve(this.open(name));
  }

  /**
   * Runs `fn` once the document has loaded, unless the store is destroyed by then. Documents are
   * synced only after loading, so the server's handshake sees the replica's state vector and
   * sends just what is missing, instead of the replica being re-sent as one big update.
   */
  whenLoaded(name: string, fn: (doc: Y.Doc) => void): void {
    void this.loaded(name).then((doc) => {
      if (!this.#destroyed) fn(doc);
    });
  }

  /**
   * Runs a write with `operation` attached to the first update it makes, so the update and the
   * pending operation reach the replica in one transaction. Returns whether anything was written.
   */
  record(operation: PendingOperation, write: () => void): boolean {
    this.#operation = operation;
    try {
      write();
      return this.#operation === undefined;
    } finally {
      this.#operation = undefined;
    }
  }

  /**
   * Applies a change another tab made (`origin` tells the other listeners where it came from) and
   * stores it, whether or not the document is open here: that tab stores it too, but it may close
   * before its write commits (offline, a message sent and the tab closed at once: the change lived
   * on only in the memory of tabs that never stored it). Stored twice is merged on load.
   */
  applyRelayed(name: string, update: Uint8Array, origin: unknown): void {
    const doc = this.#docs.get(name);
    if (doc) {
      Y.applyUpdate(doc, update, origin); // stored by the document's listener, as any change
      return;
    }
    const write = this.#persistence.append(name, update).catch((error: unknown) => this.#onError(error, name));
    this.#track(write);
  }

  /** A write handed to persistence, until it settles (see flushed). */
  #track(write: Promise<unknown>): void {
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  }

  /** Resolves when every change handed to persistence so far is stored. */
  async flushed(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }

  /**
   * Calls `listener` with every change to an open document, as Yjs encodes it, except what is
   * loaded from the replica. Returns the function that stops it.
   */
  onChange(listener: (name: string, update: Uint8Array, origin: unknown) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /**
   * Calls `listener` for every document opened from now on, and for those already open; what it
   * returns runs when that document closes.
   */
  onOpen(listener: OpenListener): () => void {
    this.#openListeners.add(listener);
    for (const [name, doc] of this.#docs) this.#listen(listener, name, doc);
    return () => this.#openListeners.delete(listener);
  }

  names(): string[] {
    return [...this.#docs.keys()];
  }

  destroy(): void {
    this.#destroyed = true;
    // Loads held or queued settle now rather than never (a loadOlder awaited as the app closes).
    this.#held = undefined;
    this.#pump();
    for (const doc of this.#docs.values()) doc.destroy();
    this.#docs.clear();
    this.#loading.clear();
    this.#openListeners.clear();
    this.#changeListeners.clear();
    this.#cleanups.clear();
  }
}

function reportToConsole(error: unknown, docName: string): void {
  console.error(`outpost replica: ${docName}:`, error);
}

/** Documents loaded from the replica at the same time. */
const LOAD_CONCURRENCY = 4;

/** The origin of changes that come from the replica itself (not stored again). */
export const PERSISTENCE_ORIGIN = Symbol('persistence');
