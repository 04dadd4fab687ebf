// Many nodes over one Postgres and one Redis (cluster.ts: real processes and nginx): people on
// different nodes chat live, a client moves between nodes, removals and sign-outs reach every
// node, and nothing acknowledged is lost when a node, Redis or Postgres goes away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { startCluster, type Cluster } from './cluster.ts';
import { photoWithGps } from './fileFixtures.ts';
import { onlineWhileIdle, signUp, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 });
}, 120_000);
afterAll(async () => cluster?.stop());

describe('three nodes, one Postgres, one Redis', () => {
  it('people on different nodes exchange messages, edits, deletions, reactions, reads and typing, live', async () => {
    const [a, b, c] = cluster.nodes.map((node) => node.url) as [string, string, string];
    const ada = await signUp(a, 'ada');
    const bob = await signUp(b, 'bob');
    const cyd = await signUp(c, 'cyd');
    const group = await ada.createGroup('crew', [bob.user.id, cyd.user.id]);
    const views = [ada, bob, cyd].map((client) => client.conversation(group));
    await until('everyone has the group', () => views.every((v) => v.meta().get()?.kind === 'group' && v.synced()));

    const first = views[0]!.send('from node A');
    const second = views[1]!.send('from node B');
    const third = views[2]!.send('from node C');
    await until(
      'all three see all three numbered 1..3 in the same order',
      () => views.every((v) => history(v).length === 3 && numberedOneToN(history(v))) && new Set(views.map((v) => JSON.stringify(history(v)))).size === 1,
      () => views.map(history),
    );
    views[1]!.edit(second, 'from node B, edited');
    views[2]!.react(first, '👍');
    views[0]!.delete(first);
    await until(
      'edits, reactions and deletions cross nodes',
      () => views.every((v) => {
        const lines = history(v);
        return lines.find((l) => l.id === second)?.body === 'from node B, edited' && lines.find((l) => l.id === first)?.deleted === true;
      }),
      () => views.map(history),
    );
    views[2]!.markRead();
    await until('bob (node B) sees cyd’s receipt (node C)', () => (views[1]!.receipts().get().find((r) => r.userId === cyd.user.id)?.read ?? 0) >= 3);
    views[0]!.setTyping(true);
    await until('cyd (node C) sees ada (node A) typing', () => views[2]!.typing().get().includes(ada.user.id as never));
    expect(third).toBeTruthy();
  });

  it('a contact on another node stays online while nothing changes, past the 30 s a silent state lasts, and goes when they leave', { timeout: 90_000 }, async () => {
    // Renewals are not sent to contacts: ada's node tells the others of them, and bob's node keeps
    // its copy of her state current with them.
    const [a, b] = cluster.nodes.map((node) => node.url) as [string, string];
    const ada = await signUp(a, 'ada');
    const bob = await signUp(b, 'bob');
    await ada.openDirect(bob.user.id);
    expect(await onlineWhileIdle(bob, ada, 40_000)).toEqual(new Set([JSON.stringify([ada.user.id])]));
  });

  it('a photo attached through nginx on one node is numbered, and read through another', async () => {
    const [a, b] = cluster.nodes.map((node) => node.url) as [string, string];
    const ada = await signUp(cluster.url, 'ada');
    const bob = await signUp(b, 'bob');
    const dm = await ada.openDirect(bob.user.id);
    // Larger than nginx lets other requests carry: uploads stream through to the node.
    const photo = await photoWithGps(2400, 1600);
    const bytes = new Uint8Array(3_000_000).map((_, i) => (i * 7919) % 251);
    const sent = ada.conversation(dm).send('from the gate', { attachments: [{ data: photo, name: 'gate.jpg' }, { data: bytes, name: 'log.bin' }] });
    const onB = bob.conversation(dm);
    await until('bob (node B) sees it numbered with both files', () => (onB.messages().get().find((m) => m.id === sent)?.attachments?.length ?? 0) === 2 && onB.messages().get().find((m) => m.id === sent)?.seq != null);
    const [image, file] = onB.messages().get().find((m) => m.id === sent)!.attachments!;
    expect(image).toMatchObject({ type: 'image/jpeg', width: 1600, height: 2400 });
    expect(new Uint8Array(await ((await bob.file(dm, file!)) as Blob).arrayBuffer())).toEqual(bytes);
    const viaA = await OutpostClient.login({ url: a }, { username: bob.user.username, password: 'correct horse battery' });
    expect((await viaA.file(dm, image!, 'thumb'))?.size).toBeGreaterThan(0);
    viaA.close();
  });

  it('a client moves to another node mid-conversation, with offline work in between: nothing refused, converges', async () => {
    const [a, b] = cluster.nodes.map((node) => node.url) as [string, string];
    const ada = await signUp(a, 'ada');
    const bob = await signUp(b, 'bob');
    const dm = await ada.openDirect(bob.user.id);
    const mine = ada.conversation(dm);
    mine.send('before moving');
    await until('numbered on node A', () => numberedOneToN(history(mine)) && history(mine).length === 1);
    ada.disconnect();
    const offline = mine.send('written offline');
    mine.edit(offline, 'written offline, edited');
    // The same session reconnects through node B (what a load balancer does after a restart).
    const moved = await OutpostClient.resume({ url: b }, ada.session);
    const there = moved.conversation(dm);
    there.send('after moving');
    await until('the moved client sees its own history', () => history(there).length >= 2);
    ada.close();
    await until('bob sees everything numbered 1..N', () => history(bob.conversation(dm)).length === 2 && numberedOneToN(history(bob.conversation(dm))), () => history(bob.conversation(dm)));
    expect(moved.failures()).toEqual([]);
    expect(offline).toBeTruthy();
  });

  it('a removal on node A cuts the member off on node C; a sign-out on one node cuts that session everywhere', async () => {
    const [a, b, c] = cluster.nodes.map((node) => node.url) as [string, string, string];
    const ada = await signUp(a, 'ada');
    const cyd = await signUp(c, 'cyd');
    const group = await ada.createGroup('crew', [cyd.user.id]);
    const cydView = cyd.conversation(group);
    await until('cyd has the group on node C', () => cydView.synced());
    await ada.removeMember(group, cyd.user.id);
    await until('cyd is cut off on node C', () => cyd.failures().some((f) => f.docName.includes(group) && f.code === 'accessLost'), () => cyd.failures());
    // The same session also connected through node B (another tab of that device).
    const elsewhere = await OutpostClient.resume({ url: b }, cyd.session);
    await until('the other tab is connected on node B', () => elsewhere.status().get() === 'connected' && elsewhere.conversations().get() !== undefined);
    await cyd.logout();
    await until('the session on node B is signed out too', () => elsewhere.failures().some((f) => f.code === 'signedOut'), () => elsewhere.failures());
    elsewhere.close();
  });
});
