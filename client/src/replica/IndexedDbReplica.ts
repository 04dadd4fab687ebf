// The durable local replica: every document the user can read, in IndexedDB through Dexie, as
// a compacted snapshot plus the updates appended since, with the outbox of pending operations
// beside them. One database per user, so a second user of the browser never opens the first's.
import * as Y from 'yjs';
import { OutpostError } from '@outpost/shared-schema';
import type { ReplicaPersistence } from './DocStore.ts';
import type { PendingOperation } from './PendingOperation.ts';
import { DEFAULT_FULL_SIZE_BUDGET, overBudget, usageOf, type CachedKind, type CacheUsage, type OutgoingMessage, type ReplicaFiles } from './ReplicaFiles.ts';
import type { MessageId } from '@outpost/shared-schema';
import { replicaDatabase, REPLICA_SCHEMA_VERSION, type IndexedDbFactory, type ReplicaDexie } from './ReplicaDatabase.ts';
import { StoragePressure, isQuotaError, type StorageStatus } from './StoragePressure.ts';
import type { SavedSearch, SearchJournalBatch, SearchSnapshot, SearchStore, SearchText } from '../search/SearchStore.ts';
import { readSavedSearch } from './readSavedSearch.ts';
import { Derived, type Live } from '../live.ts';

export interface IndexedDbReplicaOptions {
  /** Whose replica: each user has their own database. */
  userId: string;
  /** IndexedDB where there is no global one (Node tests pass fake-indexeddb here). */
  factory?: IndexedDbFactory;
  /** Updates appended to one document before it is compacted; 64 by default. */
  compactAfter?: number;
  /** Bytes of full-size images kept for offline viewing (thumbnails are always kept); 200 MB by default. */
  fullSizeBudget?: number;
}

/** Why the replica was started empty although one existed. */
export type RebuildReason = 'newerLayout' | 'otherOwner';

/**
 * The layout version of an existing database (0 when there is none), read without upgrading it.
 * Dexie stores layout n as IndexedDB version n × 10.
 */
function storedLayout(name: string, factory: IDBFactory): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name);
    let created = false;
    request.onupgradeneeded = () => {
      // No such database: this probe just created it empty; abort so it leaves nothing behind.
      created = true;
      request.transaction?.abort();
    };
    request.onsuccess = () => {
      const version = request.result.version;
      request.result.close();
      resolve(Math.floor(version / 10));
    };
    request.onerror = (event) => {
      if (created) {
        event.preventDefault();
        resolve(0);
      } else reject(request.error ?? new Error('cannot read the replica version'));
    };
  });
}

/** The database name of a user's replica. */
export function replicaName(userId: string): string {
  return `outpost-replica-${userId}`;
}

/**
 * A user's replica in IndexedDB, to pass as `persistence` to OutpostClient.
 *
 * @example
 * const replica = await IndexedDbReplica.open({ userId: session.user.id });
 * const client = await OutpostClient.resume({ url, persistence: replica }, session); // works offline
 */
export class IndexedDbReplica implements ReplicaPersistence, SearchStore {
  readonly #db: ReplicaDexie;
  readonly #compactAfter: number;
  readonly #appended = new Map<string, number>();
  readonly #compacting = new Map<string, Promise<void>>();
  readonly #pressure: StoragePressure;
  /** Updates the browser refused to store (quota): kept in memory and retried, in order. */
  readonly #unsaved: { docName: string; update: Uint8Array; operation: PendingOperation | undefined }[] = [];
  /** Messages with files the disk refused to store, by id (see `files`). */
  readonly #unsavedOutgoing = new Map<MessageId, OutgoingMessage>();
  /** The refused message being stored again now, and whether it was sent and dropped meanwhile. */
  #storingOutgoing: MessageId | null = null;
  #droppedWhileStoring = false;
  readonly #files: ReplicaFiles;
  readonly #status: Derived<StorageStatus>;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Appends handed to IndexedDB and not yet committed: closing waits for them. */
  readonly #inflight = new Set<Promise<void>>();
  #closed = false;
  /** Set when an existing replica could not be used and was replaced by an empty one. */
  readonly rebuilt: RebuildReason | null;
  /** Files waiting to upload and copies of served files, in the same database. */
  readonly files: ReplicaFiles;
  /** The local search index persists here. */
  readonly search: SearchStore = this;

  private constructor(db: ReplicaDexie, options: IndexedDbReplicaOptions, rebuilt: RebuildReason | null) {
    this.#db = db;
    const files = indexedDbFiles(db, options.fullSizeBudget ?? DEFAULT_FULL_SIZE_BUDGET, () => this.#closed);
    this.#files = files;
    // A message with files the disk refuses waits in memory like a refused update (it uploads
    // meanwhile), and is stored once there is room, unless it was sent and dropped before.
    this.files = {
      ...files,
      saveOutgoing: async (message) => {
        this.#unsavedOutgoing.delete(message.id);
        try {
          await files.saveOutgoing(message);
        } catch (error) {
          if (!isQuotaError(error)) throw error;
          this.#unsavedOutgoing.set(message.id, message);
          this.#pressure.exceeded();
          this.#status.invalidate();
          this.#scheduleRetry();
        }
      },
      // What this tab holds in memory for a full disk is waiting as much as what is stored.
      outgoing: async () => {
        const stored = await files.outgoing();
        const ids = new Set(stored.map((message) => message.id));
        const unsaved = [...this.#unsavedOutgoing.values()].filter((message) => !ids.has(message.id));
        return [...stored, ...unsaved].sort((a, b) => a.createdAt - b.createdAt);
      },
      dropOutgoing: async (id) => {
        if (this.#unsavedOutgoing.delete(id)) this.#status.invalidate();
        if (this.#storingOutgoing === id) this.#droppedWhileStoring = true;
        await files.dropOutgoing(id);
      },
    };
    this.#compactAfter = options.compactAfter ?? 64;
    this.rebuilt = rebuilt;
    this.#pressure = new StoragePressure();
    this.#status = new Derived(() => this.#pressure.status(this.#unsaved.length + this.#unsavedOutgoing.size));
    this.#pressure.onChange(this.#status.invalidate);
  }

  /**
   * Opens the user's replica, migrating an older layout. A replica written by newer code (a
   * layout this code does not know) is deleted and rebuilt from the server, never misread.
   */
  static async open(options: IndexedDbReplicaOptions): Promise<IndexedDbReplica> {
    const name = replicaName(options.userId);
    let rebuilt: RebuildReason | null = null;
    // Dexie would open a newer database as it is and patch it to fit this code's layout, mixing
    // two layouts; ask IndexedDB for the stored version first.
    if ((await storedLayout(name, options.factory?.indexedDB ?? globalThis.indexedDB)) > REPLICA_SCHEMA_VERSION) {
      await IndexedDbReplica.wipe(options.userId, options.factory);
      rebuilt = 'newerLayout';
    }
    const db = replicaDatabase(name, options.factory);
    try {
      await db.open();
    } catch (error) {
      throw new OutpostError('internal', `cannot open the local replica: ${String(error)}`);
    }
    const owner = await db.meta.get('owner');
    if (owner && owner.value !== options.userId) {
      await db.transaction('rw', [db.snapshots, db.updates, db.outbox, db.meta, db.outgoing, db.files, db.searchIndex, db.searchJournal, db.searchText], () =>
        Promise.all([
          db.snapshots.clear(),
          db.updates.clear(),
          db.outbox.clear(),
          db.meta.clear(),
          db.outgoing.clear(),
          db.files.clear(),
          db.searchIndex.clear(),
          db.searchJournal.clear(),
          db.searchText.clear(),
        ]),
      );
      rebuilt = 'otherOwner';
    }
    await db.meta.bulkPut([
      { key: 'owner', value: options.userId },
      { key: 'layout', value: REPLICA_SCHEMA_VERSION },
    ]);
    const replica = new IndexedDbReplica(db, options, rebuilt);
    // Another tab signed out (deleted the database) or upgraded the layout: stop writing at once,
    // so this tab neither blocks that tab nor re-creates a signed-out user's replica.
    db.on('versionchange', () => {
      replica.close();
      return false;
    });
    void replica.#pressure.start().catch((error: unknown) => console.error('outpost replica: cannot read the storage quota', error));
    return replica;
  }

  /** Deletes a user's replica without opening it (e.g. signing out from a closed session). */
  static async wipe(userId: string, factory?: IndexedDbFactory): Promise<void> {
    await replicaDatabase(replicaName(userId), factory).delete();
  }

  async load(docName: string): Promise<Uint8Array[]> {
    const db = this.#db;
    return db.transaction('r', [db.snapshots, db.updates], async () => {
      const snapshot = await db.snapshots.get(docName);
      const updates = await db.updates.where('docName').equals(docName).toArray();
      return [...(snapshot ? [snapshot.update] : []), ...updates.map((row) => row.update)];
    });
  }

  async append(docName: string, update: Uint8Array, operation?: PendingOperation): Promise<void> {
    if (this.#closed) return;
    const write = this.#write(docName, update, operation);
    this.#inflight.add(write);
    try {
      await write;
    } catch (error) {
      if (!isQuotaError(error)) throw error;
      // Nothing of this update reached the disk (one transaction): keep it and try again later.
      this.#unsaved.push({ docName, update, operation });
      this.#pressure.exceeded();
      this.#scheduleRetry();
      return;
    } finally {
      this.#inflight.delete(write);
    }
    const count = (this.#appended.get(docName) ?? 0) + 1;
    this.#appended.set(docName, count);
    if (count >= this.#compactAfter) void this.compact(docName);
  }

  async #write(docName: string, update: Uint8Array, operation: PendingOperation | undefined): Promise<void> {
    const db = this.#db;
    await db.transaction('rw', [db.updates, db.outbox], async () => {
      await db.updates.add({ docName, update });
      if (operation) await db.outbox.put(operation);
    });
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.retryUnsaved().catch((error: unknown) => console.error('outpost replica: retry failed', error));
    }, 5_000);
  }

  /**
   * Tries again to store the changes the disk refused (also done every 5 seconds): a "try
   * again" after the user freed some space.
   */
  async retryUnsaved(): Promise<void> {
    while (this.#unsaved.length > 0 && !this.#closed) {
      const next = this.#unsaved[0]!;
      try {
        await this.#write(next.docName, next.update, next.operation);
      } catch (error) {
        if (!isQuotaError(error)) throw error;
        this.#scheduleRetry();
        return;
      }
      this.#unsaved.shift();
      this.#status.invalidate();
    }
    for (const [id, message] of [...this.#unsavedOutgoing]) {
      if (this.#closed) return;
      if (this.#unsavedOutgoing.get(id) !== message) continue; // stored anew, or sent, meanwhile
      this.#storingOutgoing = id;
      this.#droppedWhileStoring = false;
      try {
        await this.#files.saveOutgoing(message);
      } catch (error) {
        if (!isQuotaError(error)) throw error;
        this.#scheduleRetry();
        return;
      } finally {
        this.#storingOutgoing = null;
      }
      // Sent while it was being stored: it is not waiting any more.
      if (this.#droppedWhileStoring) await this.#files.dropOutgoing(id);
      if (this.#unsavedOutgoing.get(id) === message) this.#unsavedOutgoing.delete(id);
      this.#status.invalidate();
    }
    await this.#pressure.check();
  }

  /**
   * Merges a document's snapshot and appended updates into one snapshot, in one read-write
   * transaction over both tables: another tab appending meanwhile waits for it, so every update
   * ends up either in the new snapshot or still appended, never in both or in neither.
   */
  compact(docName: string): Promise<void> {
    const running = this.#compacting.get(docName);
    if (running) return running;
    this.#appended.set(docName, 0);
    const db = this.#db;
    const work = db
      .transaction('rw', [db.snapshots, db.updates], async () => {
        const snapshot = await db.snapshots.get(docName);
        const rows = await db.updates.where('docName').equals(docName).toArray();
        if (rows.length === 0) return;
        const doc = new Y.Doc({ gc: true, guid: docName });
        if (snapshot) Y.applyUpdate(doc, snapshot.update);
        for (const row of rows) Y.applyUpdate(doc, row.update);
        await db.snapshots.put({ docName, update: Y.encodeStateAsUpdate(doc), merged: (snapshot?.merged ?? 0) + rows.length });
        await db.updates.bulkDelete(rows.map((row) => row.id as number));
        doc.destroy();
      })
      .catch((error: unknown) => {
        // The transaction rolled back as a whole: the replica is as before, only larger.
        if (isQuotaError(error)) this.#pressure.exceeded();
        else if (!this.#closed) throw error;
      })
      .finally(() => this.#compacting.delete(docName));
    this.#compacting.set(docName, work);
    return work;
  }

  async pendingOperations(): Promise<PendingOperation[]> {
    return (await this.#db.outbox.toArray()).sort((a, b) => a.at - b.at);
  }

  async settle(keys: readonly string[]): Promise<void> {
    if (keys.length > 0 && !this.#closed) await this.#db.outbox.bulkDelete([...keys]);
  }

  async replace(docName: string, state: Uint8Array): Promise<void> {
    const db = this.#db;
    await db.transaction('rw', [db.snapshots, db.updates], async () => {
      await db.updates.where('docName').equals(docName).delete();
      await db.snapshots.put({ docName, update: state, merged: 0 });
    });
  }

  async documents(): Promise<string[]> {
    const db = this.#db;
    const [snapshots, appended] = await Promise.all([db.snapshots.toCollection().primaryKeys(), db.updates.orderBy('docName').uniqueKeys()]);
    return [...new Set([...snapshots, ...appended].map(String))];
  }

  /** A small value kept with the replica (e.g. the conversation last on screen). */
  async recall(key: string): Promise<unknown> {
    return (await this.#db.meta.get(`app:${key}`))?.value;
  }

  async remember(key: string, value: unknown): Promise<void> {
    if (this.#closed) return;
    await this.#db.meta.put({ key: `app:${key}`, value });
  }

  // ── the local search index (SearchStore) ──

  async loadSearch(): Promise<SavedSearch> {
    return readSavedSearch(this.#db.backendDB());
  }

  /** The search worker reads the saved index from this database itself. */
  get savedIn(): { database: string; version: number } {
    const db = this.#db.backendDB();
    return { database: db.name, version: db.version };
  }

  async appendSearch(batch: SearchJournalBatch): Promise<number> {
    // Closed (signing out, or another tab upgraded it): not saved, so the documents' states
    // differ from what the saved index covers and the next start reads them again.
    if (this.#closed) return 0;
    const db = this.#db;
    return db.transaction('rw', [db.searchJournal, db.searchText], async () => {
      const id = await db.searchJournal.add({
        put: batch.put.map(({ id: entry, conversationId, segment }) => ({ id: entry, conversationId, ...(segment === undefined ? {} : { segment }) })),
        remove: batch.remove,
        covered: batch.covered,
      });
      await db.searchText.bulkPut(batch.put.map(({ id: entry, author, createdAt, body, files }) => ({ id: entry, author, createdAt, body, files })));
      // A removed message's text leaves the replica with the batch that removes it.
      await db.searchText.bulkDelete(batch.remove);
      return id as number;
    });
  }

  async searchTexts(ids: readonly string[]): Promise<(SearchText | undefined)[]> {
    return this.#db.searchText.bulkGet([...ids]);
  }

  async saveSearch(snapshot: SearchSnapshot): Promise<void> {
    if (this.#closed) return;
    const db = this.#db;
    await db.transaction('rw', [db.searchIndex, db.searchJournal], async () => {
      await db.searchIndex.put({ key: 'index', ...snapshot });
      await db.searchJournal.where('id').belowOrEqual(snapshot.upTo).delete();
    });
  }

  /** How many bytes the replica's documents take (snapshots plus appended updates). */
  async size(): Promise<{ bytes: number; snapshots: number; appended: number }> {
    let bytes = 0;
    let snapshots = 0;
    let appended = 0;
    await this.#db.snapshots.each((row) => ((bytes += row.update.byteLength), (snapshots += 1)));
    await this.#db.updates.each((row) => ((bytes += row.update.byteLength), (appended += 1)));
    return { bytes, snapshots, appended };
  }

  /** Storage quota, persistence and whether writes are being refused for lack of space. */
  storage(): Live<StorageStatus> {
    return this.#status;
  }

  /** Deletes the whole replica (signing out). Other tabs' connections are closed by the browser. */
  async clear(): Promise<void> {
    this.close();
    await this.#db.delete();
  }

  /** True once closed, here or because another tab deleted or upgraded the replica. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops taking writes; the connection closes once the appends already handed over commit. */
  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#pressure.stop();
    const db = this.#db;
    void Promise.allSettled([...this.#inflight]).then(() => db.close());
  }
}

/** The replica's files, in two tables of its database (blobs are stored as they are). */
function indexedDbFiles(db: ReplicaDexie, budget: number, closed: () => boolean): ReplicaFiles {
  // Across tabs, "recently used" only needs to grow: time, made strictly increasing here.
  let last = 0;
  const tick = () => (last = Math.max(last + 1, Date.now()));
  return {
    saveOutgoing: async (message: OutgoingMessage) => {
      if (!closed()) await db.outgoing.put(message);
    },
    outgoing: async () => (await db.outgoing.toArray()).sort((a, b) => a.createdAt - b.createdAt),
    dropOutgoing: async (id: MessageId) => {
      if (!closed()) await db.outgoing.delete(id);
    },
    keep: async (key: string, blob: Blob, kind: CachedKind) => {
      if (closed()) return;
      await db.transaction('rw', db.files, async () => {
        await db.files.put({ key, blob, kind, size: blob.size, usedAt: tick() });
        if (kind !== 'full') return;
        const full = await db.files.where('kind').equals('full').toArray();
        const drop = overBudget(full.map(({ key: k, size, kind: c, usedAt }) => ({ key: k, size, kind: c, usedAt })), budget);
        if (drop.length > 0) await db.files.bulkDelete(drop);
      });
    },
    kept: async (key: string) => {
      const row = await db.files.get(key);
      if (row?.kind === 'full' && !closed()) await db.files.update(key, { usedAt: tick() });
      return row?.blob;
    },
    keptKeys: async () => (await db.files.toCollection().primaryKeys()).map(String),
    usage: async (): Promise<CacheUsage> => {
      const entries: { size: number; kind: CachedKind }[] = [];
      await db.files.each((row) => void entries.push({ size: row.size, kind: row.kind }));
      return usageOf(entries, budget);
    },
  };
}
