// The IndexedDB replica in Node (fake-indexeddb) against a real server: a restart in the middle
// of offline work loses nothing and the cold start shows everything without a network; tabs of
// one user share a replica without losing or duplicating writes; signing out wipes it.
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDbReplica, type OutpostClient } from '@outpost/client';
import { freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';
import { segmentDoc } from '@outpost/shared-schema';
import { browserProfile, closeReplicaClients, countingWebSocket, startOnReplica } from './offlineReplica.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

async function setUp() {
  const server = await startNode(await freshDatabase('sqlite'));
  const signedUp = await signUp(server.url, 'ada');
  const bob = await signUp(server.url, 'bob');
  const id = await signedUp.openDirect(bob.user.id);
  const session = signedUp.session;
  signedUp.close(); // from here on ada uses only replica-backed clients
  return { server, session, bob, id };
}

const pendingKinds = (client: OutpostClient) => client.outbox().get().map((op) => op.kind).sort();

describe('the IndexedDB replica', () => {
  it('loses nothing when the client restarts twice in the middle of offline work, then converges', async () => {
    const { server, session, bob, id } = await setUp();
    const profile = browserProfile();

    // Online: one message, numbered.
    const first = await startOnReplica(server.url, session, profile);
    const a1 = first.client.conversation(id);
    const hello = a1.send('hello from the field');
    await until('the first message is numbered', () => a1.isNumbered(hello));
    await until('the outbox is empty once the server has it', () => first.client.outbox().get().length === 0, () => first.client.outbox().get());

    // The network goes; ada writes, edits, reacts and reads; then the process ends.
    first.client.disconnect();
    const b = bob.conversation(id);
    await until('bob has the first message', () => b.isNumbered(hello));
    const fromBob = b.send('bob writes while ada is offline');
    const offline1 = a1.send('offline one: pump station checked');
    a1.edit(hello, 'hello from the field (edited offline)');
    a1.react(hello, '👍');
    a1.markRead(1);
    expect(pendingKinds(first.client)).toEqual(['edit', 'react', 'read', 'send']);
    await first.client.stored();
    first.close();

    // Cold start with no network: everything is there, from the replica alone.
    const second = await startOnReplica(server.url, session, profile, { offline: true });
    expect(await second.client.lastConversation()).toBe(id);
    await until('the conversation list comes from the replica', () => second.client.conversations().get().some((c) => c.id === id), () => second.client.conversations().get());
    const a2 = second.client.conversation(id);
    await until('both messages show, the edit too', () => history(a2).length === 2, () => history(a2));
    expect(history(a2).map((l) => [l.seq, l.body, l.reactions])).toEqual([
      [1, 'hello from the field (edited offline)', `👍:${session.user.id}`],
      [null, 'offline one: pump station checked', ''],
    ]);
    expect(a2.messages().get()[1]?.status).toBe('pending');
    expect(a2.readPosition()).toBe(1);
    await until('the outbox lists what waits, from the replica', () => pendingKinds(second.client).join() === 'edit,react,read,send', () => second.client.outbox().get());
    expect(second.client.outbox().get().every((op) => op.waitedMs >= 0 && !op.otherTab)).toBe(true);
    await until('search works offline', async () => (await second.client.search('pump')).map((h) => h.messageId).join() === offline1);
    expect(second.client.status().get()).not.toBe('connected');

    // More offline work, another restart.
    // This time the tab closes in the same tick as the writes, without waiting for `stored()`:
    // the writes were handed to the replica in the same tick, and closing lets them commit.
    const offline2 = a2.send('offline two: generator refuelled');
    a2.delete(offline1);
    second.close();

    const third = await startOnReplica(server.url, session, profile, { offline: true });
    const a3 = third.client.conversation(id);
    const expectedOffline = (lines: ReturnType<typeof history>) =>
      lines.length === 3 && lines[0]?.body === 'hello from the field (edited offline)' && lines[1]?.deleted === true && lines[2]?.body === 'offline two: generator refuelled';
    await until('the second restart shows the later work too', () => expectedOffline(history(a3)), () => history(a3));
    expect(history(a3).map((l) => l.id)).toEqual([hello, offline1, offline2]);
    // The index catches up once its saved copy is loaded (after the first screen) and the
    // segment's changes it had not saved are read again.
    await third.client.searchable();
    await until('search finds the later work', async () => (await third.client.search('generator')).map((h) => h.messageId).join() === offline2, () => third.client.search('generator'));
    expect(await third.client.search('pump')).toEqual([]); // deleted offline: gone from the index too

    // The network returns: everything syncs, both sides see the same history, nothing waits.
    third.client.connect();
    const converged = () => {
      const mine = history(a3);
      return mine.length === 4 && numberedOneToN(mine) && JSON.stringify(mine) === JSON.stringify(history(b));
    };
    await until('ada and bob converge on four numbered messages', converged, () => [history(a3), history(b)]);
    expect(history(b).find((l) => l.id === hello)).toMatchObject({ body: 'hello from the field (edited offline)', reactions: `👍:${session.user.id}` });
    expect(history(b).find((l) => l.id === offline1)?.deleted).toBe(true);
    expect(history(a3).find((l) => l.id === fromBob)?.seq).toBe(2);
    await until('the outbox drains', () => third.client.outbox().get().length === 0, () => third.client.outbox().get());
    await until('bob sees ada’s read position', () => b.receipts().get().find((r) => r.userId === session.user.id)?.read === 1, () => b.receipts().get());
    // Unread comes from the replica's inbox and read positions: bob's one message after seq 1.
    await until('ada’s list shows one unread', () => third.client.conversations().get().find((c) => c.id === id)?.unread === 1, () => third.client.conversations().get());
    // The order document was stored too: a fresh start, offline again, still shows every number.
    await third.client.stored();
    third.close();
    const fourth = await startOnReplica(server.url, session, profile, { offline: true });
    const a4 = fourth.client.conversation(id);
    await until('the replica holds the converged history', () => JSON.stringify(history(a4)) === JSON.stringify(history(b)), () => history(a4));
  });

  it('two tabs of one user share the replica: both write at once, offline too, nothing lost or duplicated', async () => {
    const { server, session, bob, id } = await setUp();
    const profile = browserProfile();
    const [socket1, socket2] = [countingWebSocket(), countingWebSocket()];
    const tab1 = await startOnReplica(server.url, session, profile, { WebSocket: socket1.WebSocket });
    const tab2 = await startOnReplica(server.url, session, profile, { WebSocket: socket2.WebSocket });
    const [t1, t2] = [tab1.client.conversation(id), tab2.client.conversation(id)];
    const b = bob.conversation(id);
    await until('both tabs are synced', () => t1.synced() && t2.synced());

    // Online, at once: each tab uploads its own ten messages and not the other's (it sees them
    // through the relay and the server, but does not send them back).
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) sent.push(t1.send(`tab one ${i}`), t2.send(`tab two ${i}`));
    await until('bob sees all 20 numbered', () => history(b).length === 20 && numberedOneToN(history(b)), () => history(b).length);
    await until('each tab shows all 20', () => history(t1).length === 20 && history(t2).length === 20);
    expect(socket1.updatesSent.get(segmentDoc(id, 0))).toBe(10);
    expect(socket2.updatesSent.get(segmentDoc(id, 0))).toBe(10);

    // Offline, at once: each tab sees the other's writes at once, through the shared channel.
    tab1.client.disconnect();
    tab2.client.disconnect();
    const quiet1 = t1.send('offline from tab one');
    const quiet2 = t2.send('offline from tab two');
    await until('each tab shows the other’s offline message', () => [t1, t2].every((t) => history(t).some((l) => l.id === quiet1) && history(t).some((l) => l.id === quiet2)));
    await until('tab two lists tab one’s pending message as another tab’s', () => tab2.client.outbox().get().some((op) => op.messageId === quiet1 && op.otherTab));

    // Tab one closes before the network returns; tab two alone brings both messages home.
    await tab1.client.stored();
    tab1.close();
    tab2.client.connect();
    await until('bob sees 22 numbered messages', () => history(b).length === 22 && numberedOneToN(history(b)), () => history(b).length);
    const ids = history(b).map((l) => l.id);
    expect(new Set(ids).size).toBe(22);
    expect(ids).toEqual(expect.arrayContaining([...sent, quiet1, quiet2]));
    await until('tab two converges with bob', () => JSON.stringify(history(t2)) === JSON.stringify(history(b)));
    // A new tab, offline, finds all of it in the replica.
    const tab3 = await startOnReplica(server.url, session, profile, { offline: true });
    const t3 = tab3.client.conversation(id);
    await until('a new offline tab shows all 22 from the replica', () => history(t3).length === 22, () => history(t3).length);
  });

  it('signing out wipes the replica: the next user of the browser starts empty', async () => {
    const { server, session, bob, id } = await setUp();
    const profile = browserProfile();
    const tab = await startOnReplica(server.url, session, profile);
    const otherTab = await startOnReplica(server.url, session, profile);
    const c = tab.client.conversation(id);
    const secret = c.send('the safe code is 1234');
    await until('numbered', () => c.isNumbered(secret));
    await tab.client.stored();
    expect((await tab.replica.documents()).length).toBeGreaterThan(0);
    await tab.client.logout();
    // The other tab of the signed-out user lets go of the replica and never writes it again.
    expect(otherTab.replica.closed).toBe(true);
    otherTab.client.conversation(id).send('written after sign-out elsewhere');
    await otherTab.client.stored();

    // Bob signs in on the same browser: his replica is his own and holds none of ada’s.
    const bobs = await startOnReplica(server.url, bob.session, profile, { offline: true });
    expect(await bobs.replica.documents()).toEqual([]);
    const after = await IndexedDbReplica.open({ userId: session.user.id, factory: profile });
    expect(await after.documents()).toEqual([]);
    after.close();
    expect(await bobs.client.search('safe')).toEqual([]);
  });

  it('backfills every conversation in the background with visible progress; search then covers them offline', async () => {
    const { server, session, bob, id } = await setUp();
    const cyd = await signUp(server.url, 'cyd');
    const group = await cyd.createGroup('night shift', [session.user.id, bob.user.id]);
    const c = cyd.conversation(group);
    for (let i = 0; i < 12; i++) c.send(`group note ${i}${i === 7 ? ' about the flooded culvert' : ''}`);
    bob.conversation(id).send('a direct word about the culvert too');
    await until('cyd’s notes are numbered', () => c.messages().get().filter((m) => m.seq !== null).length === 12);

    // A new device: an empty replica, online. Nobody opens a conversation on it.
    const profile = browserProfile();
    const device = await startOnReplica(server.url, session, profile);
    const seen: string[] = [];
    device.client.syncProgress().subscribe(({ synced, total }) => seen.push(`${synced}/${total}`));
    await until('progress reaches 2 of 2 conversations', () => seen.at(-1) === '2/2', () => seen);
    expect(seen.some((s) => s.endsWith('/2') && !s.startsWith('2'))).toBe(true); // it was visible on the way
    await until('both conversations are indexed', async () => (await device.client.search('culvert')).length === 2, () => device.client.search('culvert'));
    await device.client.stored();
    device.close();

    // Offline cold start: the backfilled history is all there and searchable.
    const offline = await startOnReplica(server.url, session, profile, { offline: true });
    await until('search finds both conversations offline', async () => (await offline.client.search('culvert')).length === 2, () => offline.client.search('culvert'));
    expect(new Set((await offline.client.search('culvert')).map((h) => h.conversationId))).toEqual(new Set([id, group]));
    await until('the offline progress says nothing is synced', () => {
      const p = offline.client.syncProgress().get();
      return p.total === 2 && p.synced === 0;
    }, () => offline.client.syncProgress().get());
    expect(history(offline.client.conversation(group)).filter((l) => l.seq !== null)).toHaveLength(12);
  });
});
