// A message gets one number however often its update arrives: resent by the same client after
// a reconnect, delivered again by another connection, or through two nodes at once.
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { segmentDoc, writeMessage, type MessageId, type UserId } from '@outpost/shared-schema';
import { attempt } from './attacker.ts';
import { backends, freshDatabase, signUp, startNode, teardown, twoPeople, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

/** A raw Yjs connection to one document, outside the SDK. */
function rawProvider(url: string, name: string, token: string, document: Y.Doc): Promise<HocuspocusProvider> {
  return new Promise((resolve, reject) => {
    const provider: HocuspocusProvider = new HocuspocusProvider({
      url: url.replace('http', 'ws') + '/sync',
      name,
      document,
      token,
      onSynced: () => resolve(provider),
      onAuthenticationFailed: ({ reason }) => reject(new Error(reason)),
    });
  });
}

describe.each(backends)('duplicate delivery on %s', (backend) => {
  it('gives one number to the same update delivered twice, and to a resend after reconnect', async () => {
    const { server, ada, bob, id } = await twoPeople(backend);
    const token = ada.session.accessToken;

    // Delivered twice: two connections carry the very same update.
    const original = new Y.Doc();
    writeMessage(original, crypto.randomUUID() as MessageId, { author: ada.user.id as UserId, createdAt: Date.now(), body: 'only once' });
    const update = Y.encodeStateAsUpdate(original);
    const first = await rawProvider(server.url, segmentDoc(id, 0), token, original);
    const copy = new Y.Doc();
    Y.applyUpdate(copy, update);
    const second = await rawProvider(server.url, segmentDoc(id, 0), token, copy);
    const b = bob.conversation(id);
    await until('bob sees it numbered', () => history(b).length === 1 && history(b)[0]?.seq === 1);

    // Resent after a reconnect: the client goes away before the acknowledgement and comes back.
    const a = ada.conversation(id);
    await until('ada is synced', () => a.synced());
    a.send('sent, then the network dropped');
    ada.disconnect();
    ada.connect();
    a.send('after reconnect');
    await until('three messages numbered 1..3', () => history(b).length === 3 && numberedOneToN(history(b)) && numberedOneToN(history(a)), () => history(b));
    await new Promise((resolve) => setTimeout(resolve, 300)); // let any stray duplicate show up
    expect((await server.storage.conversations.getConversation(id))?.lastSeq).toBe(3);
    expect(history(b).map((l) => l.body)).toEqual(['only once', 'sent, then the network dropped', 'after reconnect']);
    first.destroy();
    second.destroy();
  });
});

describe.each(backends)('out-of-order delivery on %s', (backend) => {
  it('numbers a message whose update arrived before the one it depends on, once that one arrives', async () => {
    const { server, ada, bob, id } = await twoPeople(backend);
    const writer = new Y.Doc();
    const updates: Uint8Array[] = [];
    writer.on('update', (update: Uint8Array) => updates.push(update));
    const first = crypto.randomUUID() as MessageId;
    const second = crypto.randomUUID() as MessageId;
    writeMessage(writer, first, { author: ada.user.id as UserId, createdAt: 1, body: 'first' });
    writeMessage(writer, second, { author: ada.user.id as UserId, createdAt: 2, body: 'second' });
    const [u1, u2] = updates as [Uint8Array, Uint8Array];
    const b = bob.conversation(id);
    const outcome = await attempt(server.url, segmentDoc(id, 0), ada.session.accessToken, (_doc, sendRaw) => {
      sendRaw(u2); // depends on u1, which the server has not seen
      sendRaw(u1);
    });
    expect(outcome).toEqual({ refused: false });
    await until('both are numbered, in the order they were written', () => history(b).map((l) => `${l.seq}:${l.body}`).join() === '1:first,2:second', () => history(b));
  });
});

describe('duplicate delivery through two nodes on one Postgres database', () => {
  it('numbers a message once when its update reaches two nodes at the same time', async () => {
    const database = await freshDatabase('postgres');
    const one = await startNode(database);
    const two = await startNode({ ...database, dataDir: database.dataDir, databaseUrl: database.databaseUrl });
    const ada = await signUp(one.url, 'ada');
    const bob = await signUp(one.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const docs = [...Array(10).keys()].map(() => {
      const doc = new Y.Doc();
      writeMessage(doc, crypto.randomUUID() as MessageId, { author: ada.user.id as UserId, createdAt: Date.now(), body: 'x' });
      return doc;
    });
    // Every message's update goes to both nodes concurrently.
    const providers = await Promise.all(
      docs.flatMap((doc) => {
        const twin = new Y.Doc();
        Y.applyUpdate(twin, Y.encodeStateAsUpdate(doc));
        return [rawProvider(one.url, segmentDoc(id, 0), ada.session.accessToken, doc), rawProvider(two.url, segmentDoc(id, 0), ada.session.accessToken, twin)];
      }),
    );
    const b = bob.conversation(id);
    await until('bob sees ten numbered messages', () => history(b).length === 10 && numberedOneToN(history(b)), () => history(b));
    expect((await one.storage.conversations.getConversation(id))?.lastSeq).toBe(10);
    for (const provider of providers) provider.destroy();
  });
});
