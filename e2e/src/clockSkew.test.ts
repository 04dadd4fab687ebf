// A device whose clock is wrong by hours (a phone in the field with no network time), against a
// node with the right one (a process of its own, so only this side's clock is moved). Before the
// SDK read token expiry on the server's clock, a clock two hours ahead took every access token
// for expired and refreshed on every call (7 refreshes in 8 s of light use here): a load on the
// server, and on a flaky network a refresh whose answer is lost rotates the token for nothing.
// And its messages were dated by its clock: two hours in the future (or past) for everyone.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { IndexedDbReplica, OutpostClient } from '@outpost/client';
import { freshDatabase, signUp, spawnNode, teardown, until } from './harness.ts';
import { history } from './history.ts';
import { browserProfile, closeReplicaClients, startOnReplica } from './offlineReplica.ts';

afterAll(teardown);
afterAll(closeReplicaClients);

const realNow = Date.now;
const realFetch = globalThis.fetch;
afterEach(() => {
  Date.now = realNow;
  globalThis.fetch = realFetch;
});

describe.each([
  ['two hours ahead', 2 * 3_600_000],
  ['two hours behind', -2 * 3_600_000],
])('a device whose clock is %s', (_, skewMs) => {
  it('signs in, chats, dates its messages on the server’s clock, and refreshes its token no more than once', async () => {
    const node = await spawnNode(await freshDatabase('sqlite'));
    const bob = await signUp(node.url, 'bob');
    Date.now = () => realNow() + skewMs;
    const refreshes: string[] = [];
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).endsWith('/api/auth/refresh')) refreshes.push(new Date(realNow()).toISOString());
      return realFetch(input, init);
    }) as typeof fetch;

    const ada = await signUp(node.url, 'ada');
    const id = await ada.openDirect(bob.user.id);
    for (let i = 0; i < 5; i++) {
      ada.conversation(id).send(`hello ${i}`);
      await ada.searchServer(`hello`).catch(() => undefined);
    }
    await until('bob has them, numbered', () => history(bob.conversation(id)).filter((l) => l.seq !== null).length === 5);
    // Dated within a minute of the true time, at bob's and at ada's; an edit too.
    const first = bob.conversation(id).messages().get()[0]!;
    ada.conversation(id).edit(first.id, 'hello again');
    await until('bob has the edit', () => bob.conversation(id).messages().get()[0]?.editedAt !== undefined);
    for (const message of [...bob.conversation(id).messages().get(), ...ada.conversation(id).messages().get()]) {
      expect(Math.abs(message.createdAt - realNow())).toBeLessThan(60_000);
    }
    expect(Math.abs(bob.conversation(id).messages().get()[0]!.editedAt! - realNow())).toBeLessThan(60_000);
    ada.disconnect();
    ada.connect();
    await until('ada is back', () => ada.status().get() === 'connected');
    expect(refreshes.length).toBeLessThanOrEqual(1);
    expect(ada.failures()).toEqual([]);
    ada.close();
    bob.close();
  }, 60_000);
});

it('a device two hours ahead that starts offline dates what it writes on the server’s clock it learnt before', async () => {
  const node = await spawnNode(await freshDatabase('sqlite'));
  const bob = await signUp(node.url, 'bob');
  Date.now = () => realNow() + 2 * 3_600_000;
  const ada = await signUp(node.url, 'ada');
  const id = await ada.openDirect(bob.user.id);
  ada.close();
  // Ada's device signs in with its replica (it learns the server's clock), then restarts offline.
  const profile = browserProfile();
  const replica = await IndexedDbReplica.open({ userId: ada.user.id, factory: profile });
  const online = await OutpostClient.login({ url: node.url, persistence: replica }, { username: ada.user.username, password: 'correct horse battery' });
  await until('the conversation is in the replica', () => online.conversations().get().some((c) => c.id === id));
  const session = online.session;
  online.close();
  replica.close();
  const offline = await startOnReplica(node.url, session, profile, { offline: true });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const sent = offline.client.conversation(id).send('written offline');
  const message = offline.client.conversation(id).messages().get().find((m) => m.id === sent);
  expect(message?.seq).toBeNull();
  expect(Math.abs((message?.createdAt ?? 0) - realNow())).toBeLessThan(60_000);
  offline.close();
  bob.close();
}, 60_000);

it('a device two hours behind that resumes a session whose token still looks valid learns the server’s clock from its first answer', async () => {
  const node = await spawnNode(await freshDatabase('sqlite'));
  Date.now = () => realNow() - 2 * 3_600_000;
  const ada = await signUp(node.url, 'ada');
  const session = ada.session;
  ada.close();
  // A restart with no replica: nothing kept from before, and the token has hours left on this clock.
  const resumed = await OutpostClient.resume({ url: node.url }, session);
  await until('the server’s clock is known', () => Math.abs(resumed.serverNow() - realNow()) < 60_000, () => resumed.serverNow() - realNow(), 10_000);
  resumed.close();
}, 60_000);
