// One measured process of the client-memory scenario (clientMemory.ts): `bare` applies every
// segment into bare Y.Docs; `onDemand` / `all` cold-start an OutpostClient from a replica holding
// the conversations. Prints one JSON line: heap (MB), messages in memory, time to open.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import * as Y from 'yjs';
import { InboxRoots, inboxDoc, serverClientId } from '@outpost/shared-schema';
import { IndexedDbReplica, OutpostClient, type HistoryMode } from '@outpost/client';
import { conversationIdOf, me, offlineSession, syntheticConversation } from './syntheticConversation.ts';

const [mode, c, m, size] = process.argv.slice(2);
const conversations = Number(c);
const perConversation = Number(m);
const segmentSize = Number(size);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function heapMB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

if (mode === 'bare') {
  const updates: Uint8Array[] = [];
  for (let n = 0; n < conversations; n++) {
    for (const [name, doc] of syntheticConversation(perConversation, segmentSize, n)) if (name.startsWith('conv:') && !name.endsWith(':server')) updates.push(Y.encodeStateAsUpdate(doc));
  }
  const before = heapMB();
  const t = performance.now();
  const docs = updates.map((update) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, update);
    return doc;
  });
  const openMs = performance.now() - t;
  updates.length = 0;
  const heap = heapMB() - before;
  console.log(JSON.stringify({ heapMB: heap, inMemoryMessages: docs.reduce((sum, doc) => sum + doc.getMap('messages').size, 0), openMs }));
} else {
  const factory = { indexedDB: new IDBFactory(), IDBKeyRange };
  const writer = await IndexedDbReplica.open({ userId: me, factory });
  const inbox = new Y.Doc();
  inbox.clientID = serverClientId(1);
  const segments = Math.ceil(perConversation / segmentSize);
  for (let n = 0; n < conversations; n++) {
    for (const [name, doc] of syntheticConversation(perConversation, segmentSize, n)) {
      if (name.startsWith('inbox:')) continue;
      await writer.append(name, Y.encodeStateAsUpdate(doc));
      await writer.compact(name);
    }
    await writer.remember(`segmentCounters:${conversationIdOf(n)}`, Object.fromEntries(Array.from({ length: segments }, (_, s) => [s, 0])));
    inbox.getMap(InboxRoots.conversations).set(conversationIdOf(n), { kind: 'dm', title: `bench ${n}`, joinedAt: 1_700_000_000_000 });
  }
  await writer.append(inboxDoc(me), Y.encodeStateAsUpdate(inbox));
  writer.close();

  const before = heapMB();
  const t = performance.now();
  const replica = await IndexedDbReplica.open({ userId: me, factory });
  const client = await OutpostClient.resume({ url: 'http://127.0.0.1:9', persistence: replica, history: mode as HistoryMode }, offlineSession);
  client.disconnect();
  await client.loaded();
  const views = Array.from({ length: conversations }, (_, n) => client.conversation(conversationIdOf(n)));
  const wanted = mode === 'all' ? perConversation : Math.min(perConversation, 50);
  await waitFor(() => views.every((v) => v.messages().get().length >= wanted));
  const openMs = performance.now() - t;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const heap = heapMB() - before;
  const inMemoryMessages = views.reduce((sum, v) => sum + v.messages().get().length, 0);
  console.log(JSON.stringify({ heapMB: heap, inMemoryMessages, openMs }));
  client.close();
  replica.close();
  process.exit(0);
}
