// The replica's IndexedDB layout, versioned with Dexie: every layout this code can read and the
// migration from each older one, so an old replica is converted on upgrade, never misread.
import { Dexie, type EntityTable } from 'dexie';
import * as Y from 'yjs';
import type { PendingOperation } from './PendingOperation.ts';
import type { CachedKind, OutgoingMessage } from './ReplicaFiles.ts';
import type { SearchJournalBatch, SearchSnapshot } from '../search/SearchStore.ts';

/** The layout this code writes. Bump it, and add a `version(n)` step, when the layout changes. */
export const REPLICA_SCHEMA_VERSION = 5;

/** A document's compacted state: every update up to the last compaction, merged. */
export interface SnapshotRow {
  docName: string;
  update: Uint8Array;
  /** How many updates were merged into it, over its life (for diagnostics and benchmarks). */
  merged: number;
}

/** One change appended since the document's last compaction. */
export interface UpdateRow {
  id?: number;
  docName: string;
  update: Uint8Array;
}

/** Small facts about the replica itself (whose it is, the last conversation on screen). */
export interface MetaRow {
  key: string;
  value: unknown;
}

/** Layout 1 (the first one): one row per document holding every update it ever received. */
export interface LegacyDocRow {
  name: string;
  updates: Uint8Array[];
}

/** A copy of a file's bytes the server served (`<fileId>/<variant>`). */
export interface FileRow {
  key: string;
  blob: Blob;
  kind: CachedKind;
  size: number;
  /** Increasing: the least recently used full-size copies go first when over budget. */
  usedAt: number;
}

/** The saved copy of the local search index (one row, key 'index'). */
export interface SearchIndexRow extends SearchSnapshot {
  key: string;
}

/** Changes to the search index since its saved copy. */
export interface SearchJournalRow extends SearchJournalBatch {
  id?: number;
}

export type ReplicaDexie = Dexie & {
  snapshots: EntityTable<SnapshotRow, 'docName'>;
  updates: EntityTable<UpdateRow, 'id'>;
  outbox: EntityTable<PendingOperation, 'key'>;
  meta: EntityTable<MetaRow, 'key'>;
  outgoing: EntityTable<OutgoingMessage, 'id'>;
  files: EntityTable<FileRow, 'key'>;
  searchIndex: EntityTable<SearchIndexRow, 'key'>;
  searchJournal: EntityTable<SearchJournalRow, 'id'>;
};

/** Options Dexie needs where the platform has no global IndexedDB (Node with fake-indexeddb). */
export interface IndexedDbFactory {
  indexedDB: IDBFactory;
  IDBKeyRange: typeof IDBKeyRange;
}

/** Opens (creating or migrating) the replica database called `name`. */
export function replicaDatabase(name: string, factory?: IndexedDbFactory): ReplicaDexie {
  const db = new Dexie(name, factory ? { indexedDB: factory.indexedDB, IDBKeyRange: factory.IDBKeyRange } : {}) as ReplicaDexie;
  defineLayout(db, 1);
  defineLayout(db, 2);
  defineLayout(db, 3);
  defineLayout(db, 4);
  defineLayout(db, 5);
  return db;
}

/**
 * Declares layout `version` on `db`. Exported so tests can build a replica as an older version
 * of this code left it.
 */
export function defineLayout(db: Dexie, version: 1 | 2 | 3 | 4 | 5): void {
  if (version === 5) {
    // The local search index persists: a saved copy and the journal of changes since. An
    // upgraded replica starts without one and builds it from its documents once.
    db.version(5).stores({
      snapshots: 'docName',
      updates: '++id, docName',
      outbox: 'key, docName',
      meta: 'key',
      outgoing: 'id, conversationId',
      files: 'key, kind, usedAt',
      searchIndex: 'key',
      searchJournal: '++id',
    });
    return;
  }
  if (version === 4) {
    // Attachments: messages waiting for their files to upload, and copies of served files.
    db.version(4).stores({ snapshots: 'docName', updates: '++id, docName', outbox: 'key, docName', meta: 'key', outgoing: 'id, conversationId', files: 'key, kind, usedAt' });
    return;
  }
  if (version === 1) {
    db.version(1).stores({ docs: 'name' });
    return;
  }
  if (version === 3) {
    // Protocol 2: sequence numbers moved into the segments and server-owned documents carry
    // epochs. Copies of server-owned documents (and the retired :order companions) are dropped
    // and synced afresh; segments, the user document and pending work stay.
    db.version(3)
      .stores({ snapshots: 'docName', updates: '++id, docName', outbox: 'key, docName', meta: 'key' })
      .upgrade(async (tx) => {
        const serverOwned = (name: string) => name.endsWith(':order') || name.endsWith(':server') || name.startsWith('inbox:');
        await tx.table<SnapshotRow, string>('snapshots').filter((row) => serverOwned(row.docName)).delete();
        await tx.table<UpdateRow, number>('updates').filter((row) => serverOwned(row.docName)).delete();
      });
    return;
  }
  db.version(2)
    .stores({ docs: null, snapshots: 'docName', updates: '++id, docName', outbox: 'key, docName', meta: 'key' })
    .upgrade(async (tx) => {
      // Layout 1 kept every update forever; each document becomes one compacted snapshot.
      const legacy = await tx.table<LegacyDocRow, string>('docs').toArray();
      await tx.table<SnapshotRow, string>('snapshots').bulkPut(
        legacy.map((row) => ({ docName: row.name, update: Y.mergeUpdates(row.updates), merged: row.updates.length })),
      );
    });
}
