// The contract of two-factor secrets: enrolment stays pending until confirmed and cannot replace
// an enabled factor, each time step is accepted once, each recovery code works once.
import { describe, expect, it } from 'vitest';
import { createUsers, type ContractContext } from './context.ts';

const NOW = 1_700_000_000_000;

export function secondFactorsContract(context: ContractContext): void {
  describe('second factors', () => {
    it('enrols (pending, then enabled), refuses to replace an enabled factor, removes it', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const id = alice!.id;
      expect(await storage.secondFactors.getSecondFactor(id)).toBeNull();
      expect(await storage.secondFactors.enableSecondFactor(id, 10, NOW, ['h1'])).toBe(false); // nothing pending
      expect(await storage.secondFactors.beginSecondFactor(id, 'SECRET1', NOW)).toBe(true);
      expect(await storage.secondFactors.beginSecondFactor(id, 'SECRET2', NOW + 1)).toBe(true); // a pending one is replaced
      expect(await storage.secondFactors.getSecondFactor(id)).toEqual({ userId: id, secret: 'SECRET2', createdAt: NOW + 1, enabledAt: null, lastStep: 0 });

      const second = await context.second();
      expect(await second.secondFactors.enableSecondFactor(id, 10, NOW + 2, ['h1', 'h2', 'h3'])).toBe(true);
      expect(await storage.secondFactors.enableSecondFactor(id, 11, NOW + 3, ['x'])).toBe(false);
      expect(await storage.secondFactors.beginSecondFactor(id, 'SECRET3', NOW + 4)).toBe(false);
      expect(await storage.secondFactors.getSecondFactor(id)).toEqual({ userId: id, secret: 'SECRET2', createdAt: NOW + 1, enabledAt: NOW + 2, lastStep: 10 });
      expect(await storage.secondFactors.recoveryCodesLeft(id)).toBe(3);

      expect(await storage.secondFactors.removeSecondFactor(id)).toBe(true);
      expect(await storage.secondFactors.getSecondFactor(id)).toBeNull();
      expect(await storage.secondFactors.recoveryCodesLeft(id)).toBe(0);
      expect(await storage.secondFactors.removeSecondFactor(id)).toBe(false);
    });

    it('accepts each time step once and only moving forward, on any instance', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      await storage.secondFactors.beginSecondFactor(alice!.id, 'S', NOW);
      await storage.secondFactors.enableSecondFactor(alice!.id, 100, NOW, []);
      const second = await context.second();
      expect(await storage.secondFactors.acceptStep(alice!.id, 100)).toBe(false);
      const both = await Promise.all([storage.secondFactors.acceptStep(alice!.id, 101), second.secondFactors.acceptStep(alice!.id, 101)]);
      expect(both.filter(Boolean)).toHaveLength(1);
      expect(await second.secondFactors.acceptStep(alice!.id, 99)).toBe(false);
      expect(await second.secondFactors.acceptStep(alice!.id, 103)).toBe(true);
    });

    it('uses each recovery code once, and only the user’s own', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      await storage.secondFactors.beginSecondFactor(alice!.id, 'S', NOW);
      await storage.secondFactors.enableSecondFactor(alice!.id, 1, NOW, ['h1', 'h2']);
      expect(await storage.secondFactors.useRecoveryCode(bob!.id, 'h1', NOW)).toBe(false);
      expect(await storage.secondFactors.useRecoveryCode(alice!.id, 'h1', NOW)).toBe(true);
      expect(await storage.secondFactors.useRecoveryCode(alice!.id, 'h1', NOW)).toBe(false);
      expect(await storage.secondFactors.useRecoveryCode(alice!.id, 'nope', NOW)).toBe(false);
      expect(await storage.secondFactors.recoveryCodesLeft(alice!.id)).toBe(1);
    });
  });
}
