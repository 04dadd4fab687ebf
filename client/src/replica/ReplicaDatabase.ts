// The replica's IndexedDB layout, versioned with Dexie: every layout this code can read and the
// migration from each older one, so an old replica is converted on upgrade, never misread.
import { Dexie, type EntityTable } from 'dexie';
import * as Y from 'yjs';
import type { PendingOperation } from './PendingOperation.ts';
import type { CachedKind, OutgoingMessage } from './ReplicaFiles.ts';
import type { SearchEntry, SearchSnapshot, SearchText } from '../search/SearchStore.ts';

/** The layout this code writes. Bump it, and add a `version(n)` step, when the layout changes. */
export const REPLICA_SCHEMA_VERSION = 6;

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

/** Changes to the search index since its saved copy (the text of the entries is in `searchText`). */
export interface SearchJournalRow {
  id?: number;
  put: Pick<SearchEntry, 'id' | 'conversationId' | 'segment'>[];
  remove: string[];
  covered: Record<string, string>;
}

/** Layout 5's journal row: entries carried their text. */
interface LegacySearchJournalRow {
  id: number;
  put: { id: string; conversationId: string; author: string; createdAt: number; body: string; files: string }[];
  remove: string[];
  covered: Record<string, string>;
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
  searchText: EntityTable<SearchText, 'id'>;
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
  defineLayout(db, 6);
  return db;
}

/**
 * Declares layout `version` on `db`. Exported so tests can build a replica as an older version
 * of this code left it.
 */
export function defineLayout(db: Dexie, version: 1 | 2 | 3 | 4 | 5 | 6): void {
  if (version === 6) {
    // The saved search index keeps no message text (it loaded in proportion to it): the text
    // moves to one row per message, read for the hits shown. The saved copy is rewritten in
    // place, so an upgraded replica stays searchable without reading its documents again.
    db.version(6)
      .stores({
        snapshots: 'docName',
        updates: '++id, docName',
        outbox: 'key, docName',
        meta: 'key',
        outgoing: 'id, conversationId',
        files: 'key, kind, usedAt',
        searchIndex: 'key',
        searchJournal: '++id',
        searchText: 'id',
      })
      .upgrade(async (tx) => {
        const texts = new Map<string, SearchText>();
        const index = tx.table<SearchIndexRow, string>('searchIndex');
        const saved = await index.get('index');
        // Saved before layout 6, so as MiniSearch's JSON.
        if (saved && typeof saved.index === 'string') {
          const json = JSON.parse(saved.index) as { documentIds: Record<string, string>; storedFields: Record<string, Record<string, unknown>> };
          for (const [short, fields] of Object.entries(json.storedFields)) {
            const id = json.documentIds[short];
            if (id === undefined) continue;
            texts.set(id, { id, author: String(fields.author ?? ''), createdAt: Number(fields.createdAt ?? 0), body: String(fields.body ?? ''), files: String(fields.files ?? '') });
            json.storedFields[short] = { conversationId: fields.conversationId };
          }
          await index.put({ ...saved, index: JSON.stringify(json) });
        }
        const journal = tx.table<LegacySearchJournalRow, number>('searchJournal');
        for (const batch of await journal.orderBy('id').toArray()) {
          for (const { id, author, createdAt, body, files } of batch.put) texts.set(id, { id, author, createdAt, body, files });
          for (const id of batch.remove) texts.delete(id);
          await tx.table<SearchJournalRow, number>('searchJournal').put({ ...batch, put: batch.put.map(({ id, conversationId }) => ({ id, conversationId })) });
        }
        await tx.table<SearchText, string>('searchText').bulkPut([...texts.values()]);
      });
    return;
  }
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
