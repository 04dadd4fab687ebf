// The contract of administration: users listed and paged by username with their status, the
// first account, deactivation both ways, reset codes that work once and only until they expire,
// and the counts on the admin screen.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { UserId } from '@outpost/shared-schema';
import type { UserRecord } from '../../Storage.ts';
import { createUsers, userRecord, type ContractContext } from './context.ts';

const NOW = 1_700_000_000_000;

export function administrationContract(context: ContractContext): void {
  describe('administration', () => {
    it('lists users by username with their status, filters and pages, and knows the first account', async () => {
      const storage = context.storage();
      expect(await storage.administration.firstUserId()).toBeNull();
      const users: UserRecord[] = [];
      for (const [name, at] of [['carol', 3], ['alice', 1], ['bob', 2], ['dave', 4]] as const) {
        const user = { ...userRecord(name, `${name[0]!.toUpperCase()}${name.slice(1)} Example`), createdAt: NOW + at };
        await storage.accounts.createUser(user);
        users.push(user);
      }
      const alice = users.find((u) => u.username === 'alice')!;
      const bob = users.find((u) => u.username === 'bob')!;
      expect(await storage.administration.firstUserId()).toBe(alice.id);

      expect(await storage.administration.setDeactivated(bob.id, NOW + 10)).toBe(true);
      expect(await storage.administration.setDeactivated(bob.id, NOW + 11)).toBe(false); // already
      const second = await context.second();
      const page = await second.administration.listUsers({ limit: 2 });
      expect(page).toEqual([
        { ...alice, deactivatedAt: null },
        { ...bob, deactivatedAt: NOW + 10 },
      ]);
      expect((await second.administration.listUsers({ limit: 10, after: 'bob' })).map((u) => u.username)).toEqual(['carol', 'dave']);
      expect((await second.administration.listUsers({ limit: 10, query: 'CAR' })).map((u) => u.username)).toEqual(['carol']);
      expect(await second.administration.deactivatedAt(bob.id)).toBe(NOW + 10);
      expect(await second.administration.deactivatedAt(alice.id)).toBeNull();

      expect(await storage.administration.setDeactivated(bob.id, null)).toBe(true);
      expect(await storage.administration.setDeactivated(bob.id, null)).toBe(false);
      expect(await storage.administration.deactivatedAt(bob.id)).toBeNull();
      expect(await storage.administration.setDeactivated(randomUUID() as UserId, NOW)).toBe(false);
    });

    it('uses a reset code once, before it expires; a newer code replaces an older one', async () => {
      const storage = context.storage();
      const [admin, alice] = await createUsers(storage, 'admin', 'alice');
      const issue = (codeHash: string, at = NOW) =>
        storage.administration.createPasswordReset({ codeHash, userId: alice!.id, issuedBy: admin!.id, createdAt: at, expiresAt: at + 1_000 });
      await issue('first');
      await issue('second', NOW + 1);
      const second = await context.second();
      expect(await second.administration.consumePasswordReset('first', NOW + 2)).toBeNull();
      const both = await Promise.all([storage.administration.consumePasswordReset('second', NOW + 2), second.administration.consumePasswordReset('second', NOW + 2)]);
      expect(both.filter((u) => u !== null)).toEqual([alice!.id]);
      await issue('late', NOW + 5);
      expect(await storage.administration.consumePasswordReset('late', NOW + 5 + 1_000)).toBeNull();
      expect(await storage.administration.consumePasswordReset('unknown', NOW)).toBeNull();
    });

    it('counts users, deactivated users and signed-in devices', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      await storage.administration.setDeactivated(bob!.id, NOW);
      await storage.accounts.createRefreshToken({ id: randomUUID(), familyId: randomUUID(), userId: alice!.id, tokenHash: 'a', expiresAt: NOW + 10, createdAt: NOW });
      await storage.accounts.createRefreshToken({ id: randomUUID(), familyId: randomUUID(), userId: alice!.id, tokenHash: 'b', expiresAt: NOW - 10, createdAt: NOW });
      expect(await storage.administration.counts(NOW)).toEqual({ users: 2, deactivatedUsers: 1, signedInDevices: 1, conversations: 0, messages: 0 });
    });
  });
}
