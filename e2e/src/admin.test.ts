// Server administration through real servers: who is an administrator, the user list, a
// deactivation that cuts a user off at once (on every node), reactivation, a password reset by
// one-time code, the counts, and the audit log with its filters, in order.
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { startRedis, type RedisServer } from '@outpost/storage/testing';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';
import { listeningWebSocket } from './refusalLog.ts';

let redis: RedisServer | undefined;
afterAll(async () => {
  await teardown();
  await redis?.stop();
});

const PASSWORD = 'correct horse battery';
const connected = (client: OutpostClient) => client.status().get() === 'connected' && client.conversations().get() !== undefined;
const cutOff = (heard: { docName: string; reason: string }[]) => heard.some((r) => r.docName === '*' && r.reason.startsWith('socket closed with 4401'));

describe.each(backends)('server administration on %s', (backend) => {
  it('the first account and ADMIN_USERS administer: users, deactivation at once, reactivation, reset codes, stats, the audit log', async () => {
    const carolName = `carol-${process.pid}`;
    const server = await startNode({ ...(await freshDatabase(backend)), env: { ADMIN_USERS: carolName } });
    const ada = await signUp(server.url, 'ada'); // the first account
    const bob = await signUp(server.url, 'bob');
    const carol = await OutpostClient.register({ url: server.url }, { username: carolName, password: PASSWORD });
    expect(await ada.account.overview()).toEqual({ serverAdmin: true });
    expect(await bob.account.overview()).toEqual({ serverAdmin: false });
    expect(await carol.account.overview()).toEqual({ serverAdmin: true });
    await expect(bob.admin.users()).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(bob.admin.deactivate(ada.user.id)).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(bob.admin.auditLog()).rejects.toMatchObject({ kind: 'forbidden' });

    const listed = await carol.admin.users();
    expect(listed.users.map((u) => [u.username, u.serverAdmin, u.deactivatedAt])).toEqual(
      [[ada.user.username, true, null], [bob.user.username, false, null], [carolName, true, null]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect((await carol.admin.users({ q: 'bob' })).users.map((u) => u.id)).toEqual([bob.user.id]);

    // Bob talks, on two devices.
    const dm = await bob.openDirect(ada.user.id);
    const said = bob.conversation(dm).send('bob was here');
    await until('ada sees bob’s message', () => history(ada.conversation(dm)).some((l) => l.id === said && l.seq !== null));
    const wire = listeningWebSocket();
    const bobPhone = await secondDevice(server.url, bob, { WebSocket: wire.WebSocket });
    await until('bob’s phone is connected', () => connected(bobPhone));

    const before = Date.now();
    await expect(ada.admin.deactivate(ada.user.id)).rejects.toMatchObject({ kind: 'invalidInput' });
    expect(await ada.admin.deactivate(bob.user.id)).toBe(2);
    await until('bob’s phone is cut off at once', () => cutOff(wire.refusals), () => wire.refusals);
    await until('bob’s first device knows it is signed out', () => bob.failures().some((f) => f.code === 'signedOut'));
    await expect(bob.fetchConversations()).rejects.toMatchObject({ kind: 'unauthorized' });
    await expect(OutpostClient.login({ url: server.url }, { username: bob.user.username, password: PASSWORD })).rejects.toMatchObject({ kind: 'forbidden' });
    expect((await ada.admin.users({ q: 'bob' })).users[0]?.deactivatedAt).toBeGreaterThanOrEqual(before);
    // His messages stay.
    expect(history(ada.conversation(dm)).find((l) => l.id === said)?.deleted).toBeFalsy();
    await expect(ada.admin.deactivate(bob.user.id)).rejects.toMatchObject({ kind: 'conflict' });

    const stats = await ada.admin.stats();
    expect(stats).toMatchObject({ users: 3, deactivatedUsers: 1, conversations: 1, messages: 1 });
    expect(stats.signedInDevices).toBe(2); // ada and carol

    await carol.admin.reactivate(bob.user.id);
    const bobAgain = await OutpostClient.login({ url: server.url }, { username: bob.user.username, password: PASSWORD });

    // A reset code: shown to the admin (no mailer), works once, signs bob's devices out.
    const reset = await ada.admin.issuePasswordReset(bob.user.id);
    expect(reset.delivered).toBe(false);
    expect(reset.link).toBe(`${server.url}/reset?code=${encodeURIComponent(reset.code!)}`);
    await expect(OutpostClient.resetPassword({ url: server.url }, 'not-a-real-code', 'a brand new password')).rejects.toMatchObject({ kind: 'unauthorized' });
    await OutpostClient.resetPassword({ url: server.url }, reset.code!, 'a brand new password');
    await expect(OutpostClient.resetPassword({ url: server.url }, reset.code!, 'another new password')).rejects.toMatchObject({ kind: 'unauthorized' });
    await expect(bobAgain.fetchConversations()).rejects.toMatchObject({ kind: 'unauthorized' });
    bobAgain.close();
    await expect(OutpostClient.login({ url: server.url }, { username: bob.user.username, password: PASSWORD })).rejects.toMatchObject({ kind: 'unauthorized' });
    (await OutpostClient.login({ url: server.url }, { username: bob.user.username, password: 'a brand new password' })).close();

    // Bob lost his authenticator: an administrator turns his two-factor sign-in off.
    const bobNow = await OutpostClient.login({ url: server.url }, { username: bob.user.username, password: 'a brand new password' });
    const { secret } = await bobNow.account.beginTwoFactor();
    await bobNow.account.confirmTwoFactor(new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate());
    bobNow.close();
    expect((await ada.admin.users({ q: 'bob' })).users[0]?.twoFactor).toBe(true);
    await expect(bob.admin.disableTwoFactor(bob.user.id)).rejects.toMatchObject({ kind: 'unauthorized' }); // signed out long ago
    await ada.admin.disableTwoFactor(bob.user.id);
    await expect(ada.admin.disableTwoFactor(bob.user.id)).rejects.toMatchObject({ kind: 'conflict' });
    expect((await ada.admin.users({ q: 'bob' })).users[0]?.twoFactor).toBe(false);
    (await OutpostClient.login({ url: server.url }, { username: bob.user.username, password: 'a brand new password' })).close();

    // The audit log, as the admin screen reads it: filtered by user and kinds, in order.
    const aboutBob = await ada.admin.auditLog({ user: bob.user.username, kinds: ['user.deactivated', 'user.reactivated', 'password.resetIssued', 'password.reset', 'signIn.failed'] });
    expect(aboutBob.events.map((e) => [e.kind, e.actor, e.subject]).reverse()).toEqual([
      ['user.deactivated', ada.user.id, bob.user.id],
      ['signIn.failed', bob.user.id, null],
      ['user.reactivated', carol.user.id, bob.user.id],
      ['password.resetIssued', ada.user.id, bob.user.id],
      ['password.reset', bob.user.id, bob.user.id],
      ['signIn.failed', bob.user.id, null],
    ]);
    expect(aboutBob.events.map((e) => e.details.reason).filter(Boolean).reverse()).toEqual(['deactivated', 'password']);
    const all = await ada.admin.auditLog({ limit: 500 });
    expect(all.events.map((e) => e.id)).toEqual([...all.events.map((e) => e.id)].sort((a, b) => b - a));
    const page = await ada.admin.auditLog({ limit: 3 });
    const next = await ada.admin.auditLog({ limit: 3, before: page.nextBefore! });
    expect([...page.events, ...next.events].map((e) => e.id)).toEqual(all.events.slice(0, 6).map((e) => e.id));
    const later = await ada.admin.auditLog({ since: before, kinds: ['user.deactivated'] });
    expect(later.events).toHaveLength(1);
    expect((await ada.admin.auditLog({ until: before, kinds: ['user.deactivated'] })).events).toHaveLength(0);
    await expect(ada.admin.auditLog({ kinds: ['no.such.kind'] })).rejects.toMatchObject({ kind: 'invalidInput' });
    carol.close();
  });
});

describe('server administration across nodes', () => {
  it('a deactivation on one node cuts the user off on another at once', async () => {
    redis = await startRedis();
    const database = await freshDatabase('postgres');
    const signingKey = randomBytes(32).toString('base64');
    const nodeA = await startNode({ ...database, signingKey, redisUrl: redis.url });
    const nodeB = await startNode({ ...database, dataDir: (await freshDatabase('sqlite')).dataDir, signingKey, redisUrl: redis.url });
    const admin = await signUp(nodeA.url, 'admin');
    const wire = listeningWebSocket();
    const bob = await signUp(nodeB.url, 'bob', { WebSocket: wire.WebSocket });
    await until('bob is connected to node B', () => connected(bob));
    expect(await admin.admin.deactivate(bob.user.id)).toBe(1);
    await until('bob’s socket on node B is closed as signed out', () => cutOff(wire.refusals), () => wire.refusals);
    await expect(bob.fetchConversations()).rejects.toMatchObject({ kind: 'unauthorized' });
  });
});
