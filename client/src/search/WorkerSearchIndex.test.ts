// The worker-backed search index against the in-process one. Node has no Web Workers, so the
// worker's side here is its protocol handler (serveSearchIndex, what searchWorker.ts runs on a
// worker's global scope) at the far end of a real MessageChannel (testing/channelWorker.ts):
// requests and replies are structured-cloned and delivered asynchronously, in order, as between
// threads. The browser path
// itself (spawning the worker, its reading Chromium's IndexedDB) is covered by
// e2e/src/web/search.e2e.ts and the Chromium cold-start bench. SEED=n replays one random run.
import { afterEach, describe, expect, it } from 'vitest';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import * as Y from 'yjs';
import { segmentDoc, writeDeletion, writeMessage, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import { IndexedDbReplica } from '../replica/IndexedDbReplica.ts';
import { LocalSearch } from './LocalSearch.ts';
import { MiniSearchIndex } from './SearchIndex.ts';
import type { SearchEntry, SearchStore } from './SearchStore.ts';
import { channelWorker } from './testing/channelWorker.ts';
import { seededRandom as random } from './testing/seededRandom.ts';
import { WorkerSearchIndex } from './WorkerSearchIndex.ts';

const WORDS = ['pump', 'pumping', 'valve', 'north', 'south', 'sample', 'report', 'truck', 'rain', 'fence', 'meter', 'crew', 'late', 'tank', 'tanker'];
const CONVERSATIONS = ['c-1', 'c-2', 'c-3'];
const author = '00000000-0000-4000-8000-0000000000aa' as UserId;

const started: { terminate(): void }[] = [];
afterEach(() => {
  for (const worker of started.splice(0)) worker.terminate();
});

function startWorker(indexedDB?: IDBFactory): ReturnType<typeof channelWorker> {
  const worker = channelWorker(indexedDB);
  started.push(worker);
  return worker;
}

describe('WorkerSearchIndex', () => {
  const seeds = process.env.SEED ? [Number(process.env.SEED)] : [1, 2, 3, 4, 5];
  it.each(seeds)('answers as the in-process index over a random run of puts, removes, vacuums, searches and a reload (seed %i)', async (seed) => {
    const next = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const local = new MiniSearchIndex();
    const worker = new WorkerSearchIndex(startWorker(), (error) => {
      throw error;
    });
    const entry = (): SearchEntry => {
      const id = `m-${Math.floor(next() * 400)}`;
      const words = Array.from({ length: 1 + Math.floor(next() * 6) }, () => pick(WORDS));
      return { id, author, createdAt: 1, body: words.join(' '), files: next() < 0.2 ? `${pick(WORDS)}.pdf` : '', conversationId: pick(CONVERSATIONS), segment: Math.floor(next() * 4) };
    };
    let searches = 0;
    try {
      for (let step = 0; step < 400; step++) {
        const roll = next();
        if (roll < 0.45) {
          const put = Array.from({ length: 1 + Math.floor(next() * 30) }, entry);
          const remove = next() < 0.3 ? [`m-${Math.floor(next() * 400)}`] : [];
          local.update(put, remove);
          worker.update(put, remove);
        } else if (roll < 0.6) {
          // Some of these were never indexed, or removed already.
          const remove = Array.from({ length: 1 + Math.floor(next() * 20) }, () => `m-${Math.floor(next() * 450)}`);
          local.update([], remove);
          worker.update([], remove);
        } else if (roll < 0.65) {
          await local.vacuum();
          await worker.vacuum();
        } else if (roll < 0.67) {
          // A cold start: both load the same saved copy, with a journal batch after it.
          const saved = { snapshot: { index: await local.serialize(), covered: { d: String(step) }, upTo: step }, journal: [{ id: step + 1, put: [entry()], remove: [entry().id], covered: { e: 'x' } }] };
          const store = { loadSearch: () => Promise.resolve(saved) } as unknown as SearchStore;
          const expected = await new MiniSearchIndex().load(store);
          local.restore(saved);
          expect(await worker.load(store)).toEqual(expected);
        } else {
          const query = Array.from({ length: 1 + Math.floor(next() * 2) }, () => pick(WORDS).slice(0, 2 + Math.floor(next() * 5))).join(' ');
          const options = { limit: 1 + Math.floor(next() * 60), ...(next() < 0.4 ? { conversationId: pick(CONVERSATIONS) } : {}) };
          // MiniSearch vacuums discarded entries by itself, on timers: the two indexes score alike
          // once both are vacuumed (so does LocalSearch after each batch with removals).
          await Promise.all([local.vacuum(), worker.vacuum()]);
          const hits = await worker.search(query, options);
          expect(hits).toEqual(await local.search(query, options));
          expect(worker.size).toBe(local.size);
          if (hits.length > 0) searches += 1;
        }
      }
      expect(await worker.serialize()).toEqual(await local.serialize());
    } catch (error) {
      console.error(`replay with: SEED=${seed} npx vitest run client/src/search/WorkerSearchIndex.test.ts`);
      throw error;
    }
    // The run searched for something that was there, not only for nothing.
    expect(searches).toBeGreaterThan(20);
    worker.close();
  });

  it('loads the saved index by reading the replica itself, not through the main thread', async () => {
    const factory = { indexedDB: new IDBFactory(), IDBKeyRange };
    const replica = await IndexedDbReplica.open({ userId: author, factory });
    const local = new MiniSearchIndex();
    local.update([{ id: 'm-1', author, createdAt: 1, body: 'pump at the north gate', files: '', conversationId: 'c-1', segment: 0 }], []);
    await replica.saveSearch({ index: await local.serialize(), covered: { a: 'sv-a' }, upTo: 0 });
    const batch = { put: [{ id: 'm-2', author, createdAt: 2, body: 'the pump seal leaks', files: '', conversationId: 'c-2', segment: 1 }], remove: [], covered: { b: 'sv-b' } };
    const id = await replica.appendSearch(batch);
    local.update(batch.put, []);

    // A store whose own read fails: only the worker's read of the database can load it.
    const store: SearchStore = {
      savedIn: replica.savedIn,
      loadSearch: () => Promise.reject(new Error('the main thread must not read it')),
      appendSearch: (b) => replica.appendSearch(b),
      saveSearch: (s) => replica.saveSearch(s),
      searchTexts: (ids) => replica.searchTexts(ids),
    };
    const worker = new WorkerSearchIndex(startWorker(factory.indexedDB), (error) => {
      throw error;
    });
    expect(await worker.load(store)).toEqual({ covered: { a: 'sv-a', b: 'sv-b' }, upTo: id, batches: 1 });
    expect(worker.size).toBe(2);
    expect(await worker.search('pump', { limit: 10 })).toEqual(await local.search('pump', { limit: 10 }));
    worker.close();
    replica.close();
  });

  it('keeps search working on the main thread when the worker dies, with what it had indexed', async () => {
    const worker = startWorker();
    const search = new LocalSearch({ worker: () => worker });
    const doc = new Y.Doc();
    const name = segmentDoc('00000000-0000-4000-8000-000000000001' as ConversationId, 0);
    for (let i = 0; i < 100; i++) writeMessage(doc, `m-${i}` as MessageId, { author, createdAt: i, body: `crew report ${i}${i === 42 ? ' quokka' : ''}` });
    search.watch(name, doc);
    expect((await search.search('quokka')).map((h) => h.messageId)).toEqual(['m-42']);
    expect(search.size).toBe(100);

    worker.die();
    writeDeletion(doc, 'm-7' as MessageId, { by: author, at: 1 });
    writeMessage(doc, 'm-new' as MessageId, { author, createdAt: 200, body: 'a second quokka' });
    expect((await search.search('quokka')).map((h) => h.messageId).sort()).toEqual(['m-42', 'm-new']);
    expect(search.size).toBe(100);
    search.close();
  });
});
