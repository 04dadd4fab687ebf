// A month in the field without a network: the device's session has run out when it is back. What
// it wrote meanwhile stays on the device, the app is told to ask for a sign-in (not to sign out and
// drop local state), and once the user signs in again the same replica sends it all. A session
// that was ended instead (a refresh token presented twice, as a copied device would) is a sign-out.
// On SQLite and on Postgres.
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import type { Session } from '@outpost/shared-schema';
import { backends, freshDatabase, signUp, startNode, teardown, twoPeople, until } from './harness.ts';
import { history } from './history.ts';
import { browserProfile, closeReplicaClients, startOnReplica } from './offlineReplica.ts';
import { EXPIRED_ACCESS, expireRefreshTokens } from './sessionAge.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

/** What the app is told about the session's end, as it is told. */
function endings(client: OutpostClient): { expired: boolean; signedOut: boolean } {
  const told = { expired: false, signedOut: false };
  client.onSessionExpired(() => (told.expired = true));
  client.onSignedOut(() => (told.signedOut = true));
  return told;
}

describe.each(backends)('a session that ran out while offline, on %s', (backend) => {
  it('keeps what the device wrote, asks for a sign-in, and sends it all once signed in again', async () => {
    const { server, database, ada, bob, id } = await twoPeople(backend);
    const profile = browserProfile();
    const before = await startOnReplica(server.url, bob.session, profile);
    await until('bob’s device has the conversation', () => before.client.conversation(id).meta().get()?.kind === 'dm');
    // Out of reach: two messages wait on the device.
    before.client.disconnect();
    before.client.conversation(id).send('written offline 1');
    before.client.conversation(id).send('written offline 2');
    await before.client.stored();
    before.close();

    // Weeks later the app starts on the same replica, with tokens that have all run out.
    await expireRefreshTokens(database, bob.user.id);
    const away = await startOnReplica(server.url, { ...bob.session, accessToken: EXPIRED_ACCESS }, profile);
    const told = endings(away.client);
    await until('the app is told the session ran out', () => told.expired);
    expect(told.signedOut).toBe(false);
    await until('the client stops trying', () => away.client.status().get() === 'disconnected');
    // Not numbered yet, their order is not settled (sent in the same millisecond, it may be either).
    expect(history(away.client.conversation(id)).map((l) => `${l.seq} ${l.body}`).sort()).toEqual(['null written offline 1', 'null written offline 2']);
    await away.client.stored();
    away.close();

    // Signed in again (a new session of the same user) on the same replica: both go.
    const signedIn = await OutpostClient.login({ url: server.url }, { username: bob.user.username, password: 'correct horse battery' });
    const session: Session = signedIn.session;
    signedIn.close();
    const back = await startOnReplica(server.url, session, profile);
    const want = ['1 written offline 1', '2 written offline 2'];
    await until('ada has both, numbered', () => JSON.stringify(history(ada.conversation(id)).map((l) => `${l.seq} ${l.body}`)) === JSON.stringify(want), () => history(ada.conversation(id)));
    await until('bob’s device shows them sent', () => JSON.stringify(history(back.client.conversation(id)).map((l) => `${l.seq} ${l.body}`)) === JSON.stringify(want));
    expect(back.client.failures()).toEqual([]);
    back.close();
  }, 60_000);

  it('a session that was ended instead (its refresh token used elsewhere) signs the device out', async () => {
    const server = await startNode(await freshDatabase(backend));
    const bob = await signUp(server.url, 'bob');
    // Someone else presented this device's refresh token first.
    const stolen = await fetch(`${server.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: bob.session.refreshToken }) });
    expect(stolen.status).toBe(200);
    const device = await startOnReplica(server.url, { ...bob.session, accessToken: EXPIRED_ACCESS }, browserProfile());
    const told = endings(device.client);
    await until('the app is told the device was signed out', () => told.signedOut);
    expect(told.expired).toBe(false);
    device.close();
  }, 60_000);
});
