// The replica's storage contract on fake-indexeddb: atomic compaction while several tabs append,
// migration of an older layout, refusal to misread a newer one, and one replica per user.
import { describe, expect, it } from 'vitest';
import { Dexie } from 'dexie';
import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import MiniSearch from 'minisearch';
import * as Y from 'yjs';
import { LocalSearch } from '../search/LocalSearch.ts';
import { IndexedDbReplica, replicaName } from './IndexedDbReplica.ts';
import { defineLayout, type IndexedDbFactory } from './ReplicaDatabase.ts';

const profile = (): IndexedDbFactory => ({ indexedDB: new IDBFactory(), IDBKeyRange });
const user = '00000000-0000-4000-8000-00000000000a';
const other = '00000000-0000-4000-8000-00000000000b';
const docName = 'conv:00000000-0000-4000-8000-0000000000c0:0';

/** Everything a load returns, folded into one document's map. */
async function keysStored(replica: IndexedDbReplica, name = docName): Promise<string[]> {
  const doc = new Y.Doc();
  for (const update of await replica.load(name)) Y.applyUpdate(doc, update);
  return [...doc.getMap('messages').keys()].sort();
}

/** A writer (one tab) that appends one update per key to the replica, as DocStore would. */
function writer(replica: IndexedDbReplica, prefix: string) {
  const doc = new Y.Doc();
  const writes: Promise<void>[] = [];
  doc.on('update', (update: Uint8Array) => writes.push(replica.append(docName, update)));
  return {
    write: (i: number) => doc.getMap('messages').set(`${prefix}-${String(i).padStart(3, '0')}`, i),
    done: () => Promise.all(writes),
  };
}

describe('IndexedDbReplica', () => {
  it('compacts atomically while two tabs append and compact the same document', async () => {
    const factory = profile();
    const tabA = await IndexedDbReplica.open({ userId: user, factory, compactAfter: 7 });
    const tabB = await IndexedDbReplica.open({ userId: user, factory, compactAfter: 5 });
    const a = writer(tabA, 'a');
    const b = writer(tabB, 'b');
    const compactions: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      a.write(i);
      b.write(i);
      // Explicit compactions from both tabs, interleaved with the appends (as well as the
      // automatic ones every 5 and 7 appends).
      if (i % 13 === 0) compactions.push(tabA.compact(docName), tabB.compact(docName));
    }
    await Promise.all([a.done(), b.done(), ...compactions]);

    const expected = [...Array(200).keys()].flatMap((i) => [`a-${String(i).padStart(3, '0')}`, `b-${String(i).padStart(3, '0')}`]).sort();
    const reader = await IndexedDbReplica.open({ userId: user, factory });
    expect(await keysStored(reader)).toEqual(expected);
    const before = await reader.size();
    expect(before.snapshots).toBe(1); // compaction happened…
    await reader.compact(docName);
    expect(await reader.size()).toMatchObject({ snapshots: 1, appended: 0 });
    expect(await keysStored(reader)).toEqual(expected); // …and never dropped or doubled an update
    expect((await reader.load(docName)).length).toBe(1);
    for (const r of [tabA, tabB, reader]) r.close();
  });

  it('migrates a replica left by layout 1 (every update in one row) into snapshots', async () => {
    const factory = profile();
    const old = new Dexie(replicaName(user), { indexedDB: factory.indexedDB, IDBKeyRange: factory.IDBKeyRange });
    defineLayout(old, 1);
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 30; i++) doc.getMap('messages').set(`m${i}`, i);
    await old.table('docs').put({ name: docName, updates });
    old.close();

    const replica = await IndexedDbReplica.open({ userId: user, factory });
    expect(replica.rebuilt).toBeNull();
    expect(await keysStored(replica)).toEqual([...Array(30).keys()].map((i) => `m${i}`).sort());
    expect(await replica.size()).toMatchObject({ snapshots: 1, appended: 0 });
    expect(await replica.documents()).toEqual([docName]);
    replica.close();
  });

  it('migrates layout 5’s saved search index (message text inside) into words only, the text in rows of its own', async () => {
    const factory = profile();
    const old = new Dexie(replicaName(user), { indexedDB: factory.indexedDB, IDBKeyRange: factory.IDBKeyRange });
    defineLayout(old, 5);
    // What layout 5's LocalSearch saved: MiniSearch storing every field, then a journal batch.
    const conversationId = '00000000-0000-4000-8000-0000000000c0';
    const entry = (id: string, body: string) => ({ id, conversationId, author: user, createdAt: 1, body, files: '' });
    const index = new MiniSearch({ fields: ['body', 'files'], storeFields: ['conversationId', 'author', 'createdAt', 'body', 'files'] });
    index.addAll([entry('m-1', 'walrus on the pier'), entry('m-2', 'gone soon: heron'), entry('m-3', 'pump seal')]);
    await old.table('searchIndex').put({ key: 'index', index: JSON.stringify(index), covered: { [docName]: 'AA==' }, upTo: 0 });
    await old.table('searchJournal').bulkAdd([
      { put: [entry('m-3', 'pump seal replaced'), entry('m-4', 'quokka at the gate')], remove: ['m-2'], covered: {} },
    ]);
    old.close();

    const replica = await IndexedDbReplica.open({ userId: user, factory });
    expect(replica.rebuilt).toBeNull();
    expect(await replica.searchTexts(['m-1', 'm-2', 'm-3', 'm-4'])).toEqual([
      { id: 'm-1', author: user, createdAt: 1, body: 'walrus on the pier', files: '' },
      undefined,
      { id: 'm-3', author: user, createdAt: 1, body: 'pump seal replaced', files: '' },
      { id: 'm-4', author: user, createdAt: 1, body: 'quokka at the gate', files: '' },
    ]);
    const saved = await replica.loadSearch();
    expect(saved.snapshot?.index).not.toContain('walrus on the pier');
    expect(saved.journal.flatMap((batch) => batch.put.map((put) => put.body))).toEqual(['pump seal replaced', 'quokka at the gate']);
    // The migrated index searches as before, with no document read.
    const search = new LocalSearch({ store: replica });
    await search.ready();
    expect((await search.search('walrus')).map((hit) => hit.body)).toEqual(['walrus on the pier']);
    expect((await search.search('replaced')).map((hit) => hit.messageId)).toEqual(['m-3']);
    expect(await search.search('heron')).toEqual([]);
    expect((await search.search('quokka', { conversationId: conversationId as never })).map((hit) => hit.messageId)).toEqual(['m-4']);
    search.close();
    replica.close();
  });

  it('rebuilds a replica written by a newer layout instead of misreading it', async () => {
    const factory = profile();
    const newer = new Dexie(replicaName(user), { indexedDB: factory.indexedDB, IDBKeyRange: factory.IDBKeyRange });
    newer.version(9).stores({ documents: 'id' });
    await newer.table('documents').put({ id: docName, state: 'unknown to this code' });
    newer.close();

    const replica = await IndexedDbReplica.open({ userId: user, factory });
    expect(replica.rebuilt).toBe('newerLayout');
    expect(await replica.documents()).toEqual([]);
    await replica.append(docName, Y.encodeStateAsUpdate(new Y.Doc()));
    replica.close();
  });

  it('keeps each user’s replica apart and wipes it on sign-out', async () => {
    const factory = profile();
    const ada = await IndexedDbReplica.open({ userId: user, factory });
    const doc = new Y.Doc();
    doc.on('update', (u: Uint8Array) => void ada.append(docName, u));
    doc.getMap('messages').set('secret', 1);
    await ada.remember('lastConversation', 'c0');
    await ada.pendingOperations(); // waits for the queued writes
    expect(await keysStored(ada)).toEqual(['secret']);

    const bob = await IndexedDbReplica.open({ userId: other, factory });
    expect(await bob.documents()).toEqual([]);
    expect(await bob.recall('lastConversation')).toBeUndefined();
    bob.close();

    await ada.clear();
    const again = await IndexedDbReplica.open({ userId: user, factory });
    expect(await again.documents()).toEqual([]);
    expect(await keysStored(again)).toEqual([]);
    again.close();
  });

  it('reports a full disk, keeps what it could not store in memory, and stores it once there is room', async () => {
    const replica = await IndexedDbReplica.open({ userId: user, factory: profile() });
    const doc = new Y.Doc();
    const writes: Promise<void>[] = [];
    doc.on('update', (u: Uint8Array) => writes.push(replica.append(docName, u)));
    doc.getMap('messages').set('before', 1);
    await Promise.all(writes.splice(0));
    expect(replica.storage().get().state).not.toBe('full');

    const add = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function () {
      throw new DOMException('the disk is full', 'QuotaExceededError');
    };
    try {
      doc.getMap('messages').set('during', 2);
      await Promise.all(writes.splice(0)); // the append does not throw: the write waits in memory
      expect(replica.storage().get()).toMatchObject({ state: 'full', unsaved: 1 });
      expect(await keysStored(replica)).toEqual(['before']); // what was stored is intact
      await replica.retryUnsaved();
      expect(replica.storage().get().state).toBe('full');
    } finally {
      IDBObjectStore.prototype.add = add;
    }
    await replica.retryUnsaved();
    expect(replica.storage().get()).toMatchObject({ unsaved: 0 });
    expect(replica.storage().get().state).not.toBe('full');
    expect(await keysStored(replica)).toEqual(['before', 'during']);
    replica.close();
  });

  it('keeps a message with files the disk refuses in memory and stores it once there is room, unless it was sent meanwhile', async () => {
    // Found by the end-to-end honest sessions with full disks: a message sent with a file while
    // the disk was full was never stored, never uploaded (its upload was not started) and was
    // gone after a restart.
    const factory = profile();
    const replica = await IndexedDbReplica.open({ userId: user, factory });
    const outgoing = (id: string) => ({
      id: id as never,
      conversationId: '00000000-0000-4000-8000-0000000000c0' as never,
      author: user as never,
      body: 'gauge',
      createdAt: 1,
      files: [{ id: `${id.slice(0, -2)}f1`, name: 'gauge.jpg', type: 'image/jpeg', size: 4, data: new Blob([new Uint8Array([1, 2, 3, 4])]) }],
    });
    const kept = outgoing('00000000-0000-4000-8000-0000000000d1');
    const sent = outgoing('00000000-0000-4000-8000-0000000000d2');
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('the disk is full', 'QuotaExceededError');
    };
    try {
      await replica.files.saveOutgoing(kept); // does not throw: the message waits in memory
      await replica.files.saveOutgoing(sent);
      expect(replica.storage().get()).toMatchObject({ state: 'full', unsaved: 2 });
      // Still waiting, as far as this tab is concerned.
      expect((await replica.files.outgoing()).map((m) => m.id)).toEqual([kept.id, sent.id]);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    // Nothing of them is on the disk yet.
    const onDisk = await IndexedDbReplica.open({ userId: user, factory });
    expect(await onDisk.files.outgoing()).toEqual([]);
    onDisk.close();
    await replica.files.dropOutgoing(sent.id); // uploaded and sent before there was room
    await replica.retryUnsaved();
    expect(replica.storage().get()).toMatchObject({ unsaved: 0 });
    expect((await replica.files.outgoing()).map((m) => m.id)).toEqual([kept.id]);
    replica.close();
    const again = await IndexedDbReplica.open({ userId: user, factory });
    expect((await again.files.outgoing()).map((m) => m.id)).toEqual([kept.id]);
    again.close();
  });

  it('keeps messages waiting for their files, with the bytes, across a restart; full-size copies stay within the budget', async () => {
    const factory = profile();
    const replica = await IndexedDbReplica.open({ userId: user, factory, fullSizeBudget: 130 });
    const bytes = new Uint8Array([1, 2, 3, 4]);
    await replica.files.saveOutgoing({
      id: '00000000-0000-4000-8000-0000000000d1' as never,
      conversationId: '00000000-0000-4000-8000-0000000000c0' as never,
      author: user as never,
      body: 'gauge',
      createdAt: 1,
      files: [{ id: '00000000-0000-4000-8000-0000000000f1', name: 'gauge.jpg', type: 'image/jpeg', size: 4, data: new Blob([bytes]) }],
    });
    await replica.files.keep('a/thumb', new Blob([new Uint8Array(500)]), 'thumb');
    for (const key of ['a/original', 'b/original', 'c/original']) await replica.files.keep(key, new Blob([new Uint8Array(40)]), 'full');
    await replica.files.kept('a/original'); // used again: b is now the least recently used
    await replica.files.keep('d/original', new Blob([new Uint8Array(40)]), 'full');
    replica.close();

    const reopened = await IndexedDbReplica.open({ userId: user, factory, fullSizeBudget: 130 });
    const [waiting] = await reopened.files.outgoing();
    expect(waiting?.files[0]?.name).toBe('gauge.jpg');
    expect(new Uint8Array(await waiting!.files[0]!.data.arrayBuffer())).toEqual(bytes);
    expect((await reopened.files.keptKeys()).sort()).toEqual(['a/original', 'a/thumb', 'c/original', 'd/original']);
    expect(await reopened.files.usage()).toEqual({ thumbs: { count: 1, bytes: 500 }, full: { count: 3, bytes: 120 }, budget: 130 });
    await reopened.files.dropOutgoing(waiting!.id);
    expect(await reopened.files.outgoing()).toEqual([]);
    reopened.close();
  });
});
