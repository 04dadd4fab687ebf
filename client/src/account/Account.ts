// The signed-in user's own account safety, over the REST API (these calls need the network):
// devices signed in, signing them out, the password, two-factor sign-in.
import type { ChangePasswordRequest, DeviceList, DeviceSummary, SignedOut } from '@outpost/shared-schema';
import type { Api } from '../connection/api.ts';

export class Account {
  readonly #api: Api;

  /** @internal Made by OutpostClient; use `client.account`. */
  constructor(api: Api) {
    this.#api = api;
  }

  /** The devices signed in to this account, most recently seen first; `current` marks this one. */
  async devices(): Promise<DeviceSummary[]> {
    return (await this.#api.request<DeviceList>('GET', '/api/account/devices')).devices;
  }

  /** Signs one device out: its connections close at once and it must sign in again. */
  async signOutDevice(deviceId: string): Promise<void> {
    await this.#api.request('DELETE', `/api/account/devices/${encodeURIComponent(deviceId)}`);
  }

  /** Signs out every device but this one; resolves to how many were signed out. */
  async signOutOtherDevices(): Promise<number> {
    return (await this.#api.request<SignedOut>('POST', '/api/account/devices/sign-out-others')).signedOut;
  }

  /**
   * Changes the password; every other device is signed out (resolves to how many). Rejects with
   * `forbidden` (details.field = 'currentPassword') when the current password is wrong.
   */
  async changePassword(currentPassword: string, newPassword: string): Promise<number> {
    const request: ChangePasswordRequest = { currentPassword, newPassword };
    return (await this.#api.request<SignedOut>('POST', '/api/account/password', request)).signedOut;
  }
}
