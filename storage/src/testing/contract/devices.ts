// The contract of signed-in devices: a device lists while its refresh-token family is alive,
// and signing devices out revokes exactly the selected ones of that user, at once for every node.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DeviceRecord, Storage, UserRecord } from '../../Storage.ts';
import { createUsers, type ContractContext } from './context.ts';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

async function signIn(storage: Storage, user: UserRecord, name: string, at = NOW, expiresAt = NOW + HOUR): Promise<DeviceRecord> {
  const device: DeviceRecord = { id: randomUUID(), userId: user.id, name, address: '10.0.0.1', createdAt: at, lastSeenAt: at, secondFactorAt: null };
  await storage.devices.addDevice(device);
  const token = randomUUID();
  await storage.accounts.createRefreshToken({
    id: randomUUID(), familyId: device.id, userId: user.id, tokenHash: createHash('sha256').update(token).digest('hex'), expiresAt, createdAt: at,
  });
  return device;
}

export function devicesContract(context: ContractContext): void {
  describe('devices', () => {
    it('lists the user’s signed-in devices, most recently seen first, with where they were seen', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const laptop = await signIn(storage, alice!, 'Firefox on Linux', NOW);
      const phone = await signIn(storage, alice!, 'Safari on iOS', NOW + 1);
      await signIn(storage, bob!, 'Chrome on Windows');
      await signIn(storage, alice!, 'expired', NOW, NOW - 1);
      expect((await storage.devices.listDevices(alice!.id, NOW)).map((d) => d.name)).toEqual(['Safari on iOS', 'Firefox on Linux']);

      await storage.devices.touchDevice(laptop.id, NOW + 5, '192.0.2.7');
      await storage.devices.touchDevice(laptop.id, NOW + 2, '192.0.2.8'); // an older sighting never moves it back
      await storage.devices.markSecondFactor(phone.id, NOW + 3);
      const second = await context.second();
      expect(await second.devices.listDevices(alice!.id, NOW)).toEqual([
        { ...laptop, lastSeenAt: NOW + 5, address: '192.0.2.8' },
        { ...phone, secondFactorAt: NOW + 3 },
      ]);
      expect(await second.devices.getDevice(phone.id)).toEqual({ ...phone, secondFactorAt: NOW + 3 });
      expect(await second.devices.getDevice(randomUUID())).toBeNull();
    });

    it('signs out one device, all but one, or all, and only the user’s own', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const [a, b, c] = [await signIn(storage, alice!, 'a'), await signIn(storage, alice!, 'b'), await signIn(storage, alice!, 'c')];
      const bobs = await signIn(storage, bob!, 'bob');

      expect(await storage.devices.signOutDevices(bob!.id, { only: a.id }, NOW)).toEqual([]);
      expect(await storage.devices.signOutDevices(alice!.id, { only: a.id }, NOW)).toEqual([a.id]);
      expect(await storage.accounts.isSessionActive(a.id, NOW)).toBe(false);
      expect(await storage.devices.signOutDevices(alice!.id, { only: a.id }, NOW)).toEqual([]); // already out

      expect(await storage.devices.signOutDevices(alice!.id, { allBut: c.id }, NOW)).toEqual([b.id]);
      expect((await storage.devices.listDevices(alice!.id, NOW)).map((d) => d.id)).toEqual([c.id]);
      expect(await storage.devices.signOutDevices(alice!.id, { all: true }, NOW)).toEqual([c.id]);
      expect(await storage.devices.listDevices(alice!.id, NOW)).toEqual([]);
      expect(await storage.accounts.activeSessions([a.id, b.id, c.id, bobs.id], NOW)).toEqual(new Set([bobs.id]));
    });

    it('changes a password hash', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      expect(await storage.accounts.setPasswordHash(alice!.id, 'scrypt$new')).toBe(true);
      expect((await storage.accounts.getUserById(alice!.id))?.passwordHash).toBe('scrypt$new');
      expect(await storage.accounts.setPasswordHash(randomUUID() as UserRecord['id'], 'x')).toBe(false);
    });
  });
}
