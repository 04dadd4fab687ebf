// The audit log through a real server: sign-ins that work and fail, new devices, signing out,
// group membership and roles, and a message removed by a group admin, in the order they happened.
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditKind } from '@outpost/shared-schema';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

describe.each(backends)('the audit log on %s', (backend) => {
  it('holds sign-ins, devices, membership, roles and moderated removals in order', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');

    const failed = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'audit-test' },
      body: JSON.stringify({ username: ada.user.username, password: 'not the password' }),
    });
    expect(failed.status).toBe(401);
    const adaPhone = await secondDevice(server.url, ada);

    const group = await ada.createGroup('ops', []);
    await ada.addMembers(group, [bob.user.id]);
    await ada.setRole(group, bob.user.id, 'admin');
    const message = ada.conversation(group).send('a message bob will remove');
    const b = bob.conversation(group);
    await until('bob sees the message numbered', () => history(b).some((line) => line.id === message && line.seq !== null));
    const own = ada.conversation(group).send('ada removes this one herself');
    await until('bob sees ada’s second message numbered', () => history(b).some((line) => line.id === own && line.seq !== null));
    ada.conversation(group).delete(own); // the author's own deletion is no moderation
    await until('ada’s own deletion reached bob', () => history(b).some((line) => line.id === own && line.deleted));
    b.delete(message);
    await until('the removal is audited', async () => (await server.storage.audit.list({ kinds: ['message.removedByModerator'], limit: 5 })).length === 1);
    await ada.removeMember(group, bob.user.id);
    await adaPhone.logout();

    const events = (await server.storage.audit.list({ limit: 100 })).reverse();
    const seen = events.map((e) => [e.kind, e.actor, e.subject] as [AuditKind, string | null, string | null]);
    expect(seen).toEqual([
      ['device.added', ada.user.id, ada.deviceId],
      ['device.added', bob.user.id, bob.deviceId],
      ['signIn.failed', ada.user.id, null],
      ['device.added', ada.user.id, adaPhone.deviceId],
      ['signIn.succeeded', ada.user.id, adaPhone.deviceId],
      ['member.added', ada.user.id, bob.user.id],
      ['role.changed', ada.user.id, bob.user.id],
      ['message.removedByModerator', bob.user.id, message],
      ['member.removed', ada.user.id, bob.user.id],
      ['device.signedOut', null, adaPhone.deviceId],
    ]);
    const byKind = (kind: AuditKind) => events.find((e) => e.kind === kind)!;
    expect(byKind('signIn.failed').details).toMatchObject({ username: ada.user.username, reason: 'password', address: '127.0.0.1' });
    expect(byKind('role.changed').details).toEqual({ conversation: group, role: 'admin' });
    expect(byKind('message.removedByModerator').details).toEqual({ conversation: group, author: ada.user.id });
    expect(JSON.stringify(events)).not.toContain('a message bob will remove');
    expect(JSON.stringify(events)).not.toContain('not the password');
    for (let i = 1; i < events.length; i += 1) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
  });
});
