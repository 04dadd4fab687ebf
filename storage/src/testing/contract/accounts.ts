// The contract for users and rotating refresh tokens: usernames are unique, search finds
// people by any part of their names, and a refresh token works exactly once.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OutpostError, type UserId } from '@outpost/shared-schema';
import type { RefreshTokenRecord, UserRecord } from '../../Storage.ts';
import { createUsers, userRecord, type ContractContext } from './context.ts';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function nextToken(token: string, expiresAt = NOW + HOUR): Omit<RefreshTokenRecord, 'familyId' | 'userId'> {
  return { id: randomUUID(), tokenHash: tokenHash(token), expiresAt, createdAt: NOW };
}

async function issue(context: ContractContext, user: UserRecord, token: string, expiresAt = NOW + HOUR): Promise<string> {
  const familyId = randomUUID();
  await context.storage().accounts.createRefreshToken({ ...nextToken(token, expiresAt), familyId, userId: user.id });
  return familyId;
}

export function accountsContract(context: ContractContext): void {
  describe('users', () => {
    it('finds a user by id and by username, and nothing for unknown ones', async () => {
      const storage = context.storage();
      const alice = userRecord('alice', 'Alice Liddell');
      await storage.accounts.createUser(alice);
      expect(await storage.accounts.getUserById(alice.id)).toEqual(alice);
      expect(await storage.accounts.getUserByUsername('alice')).toEqual(alice);
      expect(await storage.accounts.getUserById(randomUUID() as UserId)).toBeNull();
      expect(await storage.accounts.getUserByUsername('nobody')).toBeNull();
    });

    it('refuses a taken username with a conflict and keeps the first user', async () => {
      const storage = context.storage();
      const first = userRecord('alice', 'First Alice');
      await storage.accounts.createUser(first);
      const second = userRecord('alice', 'Second Alice');
      const attempt = storage.accounts.createUser(second);
      await expect(attempt).rejects.toBeInstanceOf(OutpostError);
      await expect(attempt).rejects.toMatchObject({ kind: 'conflict' });
      expect(await storage.accounts.getUserByUsername('alice')).toEqual(first);
      expect(await storage.accounts.getUserById(second.id)).toBeNull();
    });

    it('gets users by ids in the order asked, skipping unknown ids', async () => {
      const storage = context.storage();
      const [alice, , carol] = await createUsers(storage, 'alice', 'bob', 'carol');
      const found = await storage.accounts.getUsersByIds([carol!.id, randomUUID() as UserId, alice!.id]);
      expect(found.map((user) => user.username)).toEqual(['carol', 'alice']);
      expect(await storage.accounts.getUsersByIds([])).toEqual([]);
    });

    it('searches usernames and display names by substring, ignoring case, by username, up to the limit', async () => {
      const storage = context.storage();
      for (const [username, displayName] of [
        ['zed', 'Ali Baba'],
        ['alice', 'Alice Liddell'],
        ['bob', 'Bob Builder'],
        ['malika', 'Malika'],
        ['emile', 'Émile Zola'],
      ] as const) {
        await storage.accounts.createUser(userRecord(username, displayName));
      }
      const names = async (query: string, limit = 10) => (await storage.accounts.searchUsers(query, limit)).map((user) => user.username);
      expect(await names('ALI')).toEqual(['alice', 'malika', 'zed']);
      expect(await names('ali', 2)).toEqual(['alice', 'malika']);
      expect(await names('builder')).toEqual(['bob']);
      expect(await names('émile')).toEqual(['emile']);
      expect(await names('nobody')).toEqual([]);
    });
  });

  describe('refresh tokens', () => {
    it('rotates a token into the same family, and the new token rotates in turn', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const familyId = await issue(context, alice!, 't1');
      expect(await storage.accounts.rotateRefreshToken(tokenHash('t1'), nextToken('t2'), NOW)).toEqual({ outcome: 'rotated', userId: alice!.id, familyId });
      expect(await storage.accounts.rotateRefreshToken(tokenHash('t2'), nextToken('t3'), NOW + 1)).toEqual({ outcome: 'rotated', userId: alice!.id, familyId });
    });

    it('treats a token presented again as theft: reports reuse and revokes the whole family', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const familyId = await issue(context, alice!, 't1');
      const otherFamily = await issue(context, alice!, 'other-device');
      await storage.accounts.rotateRefreshToken(tokenHash('t1'), nextToken('t2'), NOW);

      expect(await storage.accounts.rotateRefreshToken(tokenHash('t1'), nextToken('t2-thief'), NOW + 1)).toEqual({ outcome: 'reused', userId: alice!.id, familyId });
      // The family's newest token, held by the legitimate device, no longer works either …
      expect(await storage.accounts.rotateRefreshToken(tokenHash('t2'), nextToken('t3'), NOW + 2)).toMatchObject({ outcome: 'reused' });
      // … the thief's would-be successor was never stored …
      expect(await storage.accounts.rotateRefreshToken(tokenHash('t2-thief'), nextToken('t4'), NOW + 3)).toEqual({ outcome: 'unknown' });
      // … and other sessions of the same user are untouched.
      expect(await storage.accounts.rotateRefreshToken(tokenHash('other-device'), nextToken('other-2'), NOW + 4)).toEqual({
        outcome: 'rotated',
        userId: alice!.id,
        familyId: otherFamily,
      });
    });

    it('lets exactly one of two simultaneous rotations of one token through', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice] = await createUsers(storage, 'alice');
      await issue(context, alice!, 't1');
      const outcomes = await Promise.all([
        storage.accounts.rotateRefreshToken(tokenHash('t1'), nextToken('a'), NOW),
        second.accounts.rotateRefreshToken(tokenHash('t1'), nextToken('b'), NOW),
      ]);
      expect(outcomes.map((result) => result.outcome).sort()).toEqual(['reused', 'rotated']);
      // Reuse revoked the family, so the token the winner received is dead too.
      const results = await Promise.all(['a', 'b'].map((token) => storage.accounts.rotateRefreshToken(tokenHash(token), nextToken(`${token}-next`), NOW + 1)));
      expect(results.map((result) => result.outcome).sort()).toEqual(['reused', 'unknown']);
    });

    it('reports an expired token as expired and an unknown one as unknown', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      await issue(context, alice!, 'old', NOW - 1);
      expect(await storage.accounts.rotateRefreshToken(tokenHash('old'), nextToken('new'), NOW)).toEqual({ outcome: 'expired' });
      expect(await storage.accounts.rotateRefreshToken(tokenHash('never-issued'), nextToken('new2'), NOW)).toEqual({ outcome: 'unknown' });
    });

    it('revokes the family of a token on logout, and says when there is no such token', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const family = await issue(context, alice!, 't1');
      const other = await issue(context, alice!, 'laptop');
      await storage.accounts.rotateRefreshToken(tokenHash('t1'), nextToken('t2'), NOW);
      expect(await storage.accounts.isSessionActive(family, NOW)).toBe(true); // t2 is live
      expect(await storage.accounts.revokeRefreshToken(tokenHash('t1'))).toBe(family);
      expect(await storage.accounts.isSessionActive(family, NOW)).toBe(false);
      expect(await storage.accounts.isSessionActive(other, NOW)).toBe(true); // another device stays signed in
      expect(await storage.accounts.isSessionActive(other, NOW + 2 * HOUR)).toBe(false); // until it expires
      // Asked together, in one query: the same answers.
      expect(await storage.accounts.activeSessions([family, other, 'no-such-family', other], NOW)).toEqual(new Set([other]));
      expect(await storage.accounts.activeSessions([family, other], NOW + 2 * HOUR)).toEqual(new Set());
      expect(await storage.accounts.activeSessions([], NOW)).toEqual(new Set());
      expect(await storage.accounts.rotateRefreshToken(tokenHash('t2'), nextToken('t3'), NOW + 1)).toMatchObject({ outcome: 'reused' });
      expect(await storage.accounts.revokeRefreshToken(tokenHash('never-issued'))).toBeNull();
    });
  });
}
