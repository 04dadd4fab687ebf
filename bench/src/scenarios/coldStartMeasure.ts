// The measurements of a cold start, shared by the Node (fake-indexeddb) and the Chromium runs:
// open the replica, resume offline, wait for the last 50 messages, for everything to be
// searchable (the saved search index), then for all messages; then search latency against a
// linear scan, and bytes stored per message.
import * as Y from 'yjs';
import { segmentMaps } from '@outpost/shared-schema';
import { IndexedDbReplica, LocalSearch, OutpostClient, type HistoryMode, type IndexedDbFactory, type SearchWorker } from '@outpost/client';
import { conversationId, me, messageId, offlineSession, segmentWord, syntheticConversation } from './syntheticConversation.ts';

export interface ColdStartResult {
  last50Ms: number;
  /** Until a word of every segment is found by search (the saved index loaded). */
  searchableMs: number;
  /** Until every message is in memory; null with history 'replica', which keeps older segments in the replica only. */
  fullMs: number | null;
  memoryApplyMs: number;
  searchMs: number[];
  scanMs: number[];
  storedBytes: number;
  yjsBytes: number;
  snapshots: number;
}

/**
 * Writes the synthetic conversation into the user's replica as a long-running client leaves it:
 * compacted snapshots, the change counters it is in step with, and the saved search index.
 */
export async function populate(messages: number, segmentSize: number, factory?: IndexedDbFactory): Promise<void> {
  const writer = await IndexedDbReplica.open({ userId: me, ...(factory ? { factory } : {}) });
  const search = new LocalSearch({ store: writer });
  const docs = syntheticConversation(messages, segmentSize);
  for (const [name, doc] of docs) {
    await writer.append(name, Y.encodeStateAsUpdate(doc));
    await writer.compact(name);
    search.watch(name, doc);
  }
  const segments = Math.ceil(messages / segmentSize);
  await writer.remember(`segmentCounters:${conversationId}`, Object.fromEntries(Array.from({ length: segments }, (_, s) => [s, 0])));
  await waitFor(() => search.size === messages, () => new Promise((resolve) => setTimeout(resolve, 10)));
  await search.compact();
  search.close();
  writer.close();
}

/** `wait` between checks: the platform decides what lets IndexedDB's callbacks run. */
async function waitFor(check: () => boolean, wait: () => Promise<unknown>): Promise<void> {
  while (!check()) await wait();
}

async function waitForAsync(check: () => Promise<boolean>, wait: () => Promise<unknown>): Promise<void> {
  while (!(await check())) await wait();
}

/**
 * Starts a client from the stored replica with no network and measures it; `start` is when the
 * clock started. `searchWorker` holds the search index in a worker, as the web app does;
 * `history` is the SDK's (the web app's is 'replica': older segments stay in the replica).
 */
export async function measureColdStart(
  messages: number,
  segmentSize: number,
  start: number,
  wait: () => Promise<unknown>,
  factory?: IndexedDbFactory,
  searchWorker?: () => SearchWorker,
  history: HistoryMode = 'all',
): Promise<ColdStartResult> {
  const replica = await IndexedDbReplica.open({ userId: me, ...(factory ? { factory } : {}) });
  const client = await OutpostClient.resume({ url: 'http://127.0.0.1:9', persistence: replica, history, ...(searchWorker ? { searchWorker } : {}) }, offlineSession);
  client.disconnect();
  const conversation = client.conversation(conversationId);
  const last = Array.from({ length: 50 }, (_, i) => messageId(messages - i));
  await waitFor(() => last.every((m) => conversation.isNumbered(m)) && conversation.messages().get().length >= 50, wait);
  const last50Ms = performance.now() - start;
  const segments = Math.ceil(messages / segmentSize);
  await client.searchable();
  const words = Array.from({ length: segments }, (_, s) => segmentWord(s));
  await waitForAsync(async () => (await Promise.all(words.map(async (word) => (await client.search(word, { limit: 1 })).length === 1))).every(Boolean), () => new Promise((resolve) => setTimeout(resolve, 10)));
  const searchableMs = performance.now() - start;
  let fullMs: number | null = null;
  if (history === 'all') {
    const firstOfEachSegment = Array.from({ length: Math.ceil(messages / segmentSize) }, (_, s) => messageId(s * segmentSize + 1));
    await waitFor(() => firstOfEachSegment.every((m) => conversation.isNumbered(m)), () => new Promise((resolve) => setTimeout(resolve, 10)));
    const all = conversation.messages().get();
    fullMs = performance.now() - start;
    if (all.length !== messages) throw new Error(`expected ${messages} messages, saw ${all.length}`);
  }

  const queries = ['pump', 'north gate', 'cab', 'bridge well tank', 'meter crew late'];
  const searchMs: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const query of queries) {
      const t = performance.now();
      await client.search(query, { limit: 50 });
      searchMs.push(performance.now() - t);
    }
  }
  const size = await replica.size();
  client.close();
  replica.close();

  // Baselines on the same documents: a linear scan of their bodies for the same queries,
  // applying their snapshots from memory, and their Yjs size.
  const docs = syntheticConversation(messages, segmentSize);
  const segmentDocs = [...docs.entries()].filter(([name]) => name.startsWith('conv:') && !name.endsWith(':server')).map(([, doc]) => doc);
  const bodies = segmentDocs.flatMap((doc) => [...segmentMaps(doc).messages.values()].map((entry) => entry.body));
  if (bodies.length !== messages) throw new Error(`expected ${messages} bodies, found ${bodies.length}`);
  const scanMs: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const query of queries) {
      const t = performance.now();
      const words = query.split(' ');
      bodies.filter((body) => words.every((w) => body.includes(w))).slice(0, 50);
      scanMs.push(performance.now() - t);
    }
  }
  const snapshots = [...docs.values()].map((doc) => Y.encodeStateAsUpdate(doc));
  const t = performance.now();
  for (const update of snapshots) Y.applyUpdate(new Y.Doc(), update);
  const memoryApplyMs = performance.now() - t;
  const yjsBytes = segmentDocs.reduce((sum, doc) => sum + Y.encodeStateAsUpdate(doc).byteLength, 0);
  return { last50Ms, searchableMs, fullMs, memoryApplyMs, searchMs, scanMs, storedBytes: size.bytes, yjsBytes, snapshots: size.snapshots };
}
