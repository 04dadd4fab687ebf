// Roles as the write path asks for them, against real SQLite: cached for RECHECK_MS, and those in
// use asked again in one query before they go stale, so a member who keeps writing never waits
// for storage; a membership changed meanwhile is never undone by an older answer.
import { expect, it } from 'vitest';
import type { ConversationId, UserId } from '@outpost/shared-schema';
import { SqliteStorage, type Storage } from '@outpost/storage';
import { createTokenSigner } from '../auth/tokens.ts';
import { AccessControl, RECHECK_MS, ROLES_REFRESH_MS } from './access.ts';
import { countedCalls } from './testing/countedCalls.ts';

async function setUp(): Promise<{ storage: SqliteStorage; access: AccessControl; calls: Map<string, number>; group: ConversationId; ada: UserId; bob: UserId }> {
  const storage = new SqliteStorage(':memory:');
  await storage.migrate();
  const [ada, bob] = [crypto.randomUUID() as UserId, crypto.randomUUID() as UserId];
  for (const [id, name] of [[ada, 'ada'], [bob, 'bob']] as const) await storage.accounts.createUser({ id, username: name, displayName: name, passwordHash: 'x', createdAt: 1 });
  const group = crypto.randomUUID() as ConversationId;
  await storage.conversations.createConversation({ id: group, kind: 'group', title: 'g', createdBy: ada, createdAt: 1, members: [{ userId: ada, role: 'owner' }, { userId: bob, role: 'member' }] });
  const { counted: conversations, calls } = countedCalls(storage.conversations);
  const signer = createTokenSigner(new Uint8Array(32), { issuer: 'test', audience: 'test', ttlSeconds: 60 });
  // The storage's parts, with conversations counted (AccessControl reads only the parts).
  const access = new AccessControl({ ...storage, conversations } as unknown as Storage, signer);
  return { storage, access, calls, group, ada, bob };
}

it('asks storage for no role on the write path while the roles in use are refreshed in one query', async () => {
  const { storage, access, calls, group, ada, bob } = await setUp();
  let now = 1_000_000;
  expect(await access.roleOf(group, bob, now)).toBe('member');
  expect(await access.roleOf(group, ada, now)).toBe('owner');
  expect(calls.get('getMemberRole')).toBe(2);
  // A minute of messages from both, with the refresh running on its period.
  let refreshes = 0;
  for (let refreshAt = now + ROLES_REFRESH_MS; now < 1_060_000; now += 100) {
    if (now >= refreshAt) {
      await access.refreshRolesInUse(now);
      refreshAt += ROLES_REFRESH_MS;
      refreshes += 1;
    }
    expect(await access.roleOf(group, bob, now)).toBe('member');
    expect(await access.roleOf(group, ada, now)).toBe('owner');
  }
  expect(calls.get('getMemberRole')).toBe(2);
  expect(refreshes).toBeGreaterThan(30);
  expect(calls.get('getMemberRoles')).toBe(refreshes);

  // Bob is removed by another node whose notice never came: the next refresh finds it.
  await storage.conversations.removeMember(group, bob, ada, now);
  await access.refreshRolesInUse(now);
  expect(await access.roleOf(group, bob, now + 1)).toBeNull();
  await storage.close();
});

it('stops refreshing a role nobody asks for, and asks storage again when it is needed', async () => {
  const { storage, access, calls, group, bob } = await setUp();
  const start = 1_000_000;
  await access.roleOf(group, bob, start);
  await access.refreshRolesInUse(start + 29_000);
  expect(calls.get('getMemberRoles')).toBe(1);
  await access.refreshRolesInUse(start + 31_000);
  expect(calls.get('getMemberRoles')).toBe(1);
  expect(await access.roleOf(group, bob, start + 31_000)).toBe('member');
  expect(calls.get('getMemberRole')).toBe(2);
  // Without the refresh an answer is trusted for RECHECK_MS only.
  expect(await access.roleOf(group, bob, start + 31_000 + RECHECK_MS)).toBe('member');
  expect(calls.get('getMemberRole')).toBe(3);
  await storage.close();
});

it('keeps no role refreshed that only the connection sweep asked for', async () => {
  const { storage, access, calls, group, bob } = await setUp();
  const start = 1_000_000;
  expect(await access.roleOf(group, bob, start, false)).toBe('member');
  await access.refreshRolesInUse(start + 1_500);
  expect(calls.get('getMemberRoles')).toBeUndefined();
  // The write path asks: from now on it is refreshed.
  expect(await access.roleOf(group, bob, start + 1_600)).toBe('member');
  await access.refreshRolesInUse(start + 3_000);
  expect(calls.get('getMemberRoles')).toBe(1);
  await storage.close();
});

it('forgets the roles only the connection sweep asked for once they are no longer trusted, and keeps those in use', async () => {
  const { storage, access, calls, group, ada, bob } = await setUp();
  const start = 1_000_000;
  await access.roleOf(group, bob, start, false);
  await access.roleOf(group, ada, start);
  await access.refreshRolesInUse(start + RECHECK_MS - 1);
  expect(access.rolesCached).toBe(2);
  await access.refreshRolesInUse(start + RECHECK_MS);
  expect(access.rolesCached).toBe(1);
  // The sweep asks again for what it still needs; the write path's role was refreshed meanwhile.
  expect(await access.roleOf(group, bob, start + RECHECK_MS, false)).toBe('member');
  expect(await access.roleOf(group, ada, start + RECHECK_MS)).toBe('owner');
  expect(calls.get('getMemberRole')).toBe(3);
  await storage.close();
});

it('never puts back an answer older than a membership change made while the refresh asked', async () => {
  const { storage, access, group, ada, bob } = await setUp();
  const now = 1_000_000;
  expect(await access.roleOf(group, bob, now)).toBe('member');
  // The refresh's query is answered with bob a member; meanwhile he is removed here.
  const refreshing = access.refreshRolesInUse(now + 1_000);
  await storage.conversations.removeMember(group, bob, ada, now + 1_000);
  access.forgetConversation(group);
  await refreshing;
  expect(await access.roleOf(group, bob, now + 1_001)).toBeNull();
  await storage.close();
});
