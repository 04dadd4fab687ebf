// What a signed-in user does about their own account's safety: see the devices signed in, sign
// one or all others out (their sockets close at once, on every node), change the password
// (which signs every other device out).
import { OutpostError, type ChangePasswordRequest, type DeviceId, type DeviceSummary, type UserId } from '@outpost/shared-schema';
import type { DeviceSelection, Storage } from '@outpost/storage';
import type { Audit } from '../audit/Audit.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export class AccountSecurity {
  readonly #storage: Storage;
  readonly #audit: Audit;
  readonly #onRevoked: (deviceId: DeviceId) => void;

  /** `onRevoked` cuts a signed-out device's connections off, here and on every other node. */
  constructor(storage: Storage, audit: Audit, onRevoked: (deviceId: DeviceId) => void) {
    this.#storage = storage;
    this.#audit = audit;
    this.#onRevoked = onRevoked;
  }

  async devices(userId: UserId, current: DeviceId): Promise<DeviceSummary[]> {
    const devices = await this.#storage.devices.listDevices(userId, Date.now());
    return devices.map((d) => ({ id: d.id, name: d.name, address: d.address, createdAt: d.createdAt, lastSeenAt: d.lastSeenAt, current: d.id === current }));
  }

  /** Signs out one of the user's devices (this one too, if asked). */
  async signOutDevice(userId: UserId, deviceId: string): Promise<void> {
    const signedOut = await this.signOut(userId, userId, { only: deviceId }, 'signedOutByOwner');
    if (signedOut.length === 0) throw new OutpostError('notFound', 'no such signed-in device');
  }

  /** Signs out every device of the user but `current`; returns how many. */
  async signOutOthers(userId: UserId, current: DeviceId): Promise<number> {
    return (await this.signOut(userId, userId, { allBut: current }, 'signedOutByOwner')).length;
  }

  /** Checks the current password, stores the new one, signs out every other device. */
  async changePassword(userId: UserId, current: DeviceId, request: ChangePasswordRequest): Promise<number> {
    const user = await this.#storage.accounts.getUserById(userId);
    if (!user) throw new OutpostError('unauthorized', 'user no longer exists');
    if (!(await verifyPassword(request.currentPassword, user.passwordHash))) {
      throw new OutpostError('forbidden', 'the current password is wrong', { field: 'currentPassword' });
    }
    await this.#storage.accounts.setPasswordHash(userId, await hashPassword(request.newPassword));
    const signedOut = await this.signOut(userId, userId, { allBut: current }, 'passwordChanged');
    await this.#audit.record('password.changed', userId, userId, { devicesSignedOut: signedOut.length });
    return signedOut.length;
  }

  /** Revokes the selected devices, cuts their connections everywhere, audits each. */
  async signOut(userId: UserId, actor: UserId | null, which: DeviceSelection, reason: string): Promise<string[]> {
    const signedOut = await this.#storage.devices.signOutDevices(userId, which, Date.now());
    for (const deviceId of signedOut) {
      this.#onRevoked(deviceId as DeviceId);
      await this.#audit.record('device.signedOut', actor, deviceId, { user: userId, reason });
    }
    return signedOut;
  }
}
