// The signed-in user's own account safety, over the REST API (these calls need the network):
// devices signed in, signing them out, the password, two-factor sign-in.
import type {
  AccountOverview,
  ChangePasswordRequest,
  ConfirmTwoFactorRequest,
  DeviceList,
  DeviceSummary,
  DisableTwoFactorRequest,
  RecoveryCodes,
  SignedOut,
  TwoFactorEnrolment,
  TwoFactorStatus,
} from '@outpost/shared-schema';
import type { Api } from '../connection/api.ts';

export class Account {
  readonly #api: Api;

  /** @internal Made by OutpostClient; use `client.account`. */
  constructor(api: Api) {
    this.#api = api;
  }

  /** Facts about this account the app shows (whether it is a server administrator). */
  async overview(): Promise<AccountOverview> {
    return this.#api.request<AccountOverview>('GET', '/api/account');
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

  /** Whether two-factor sign-in is on, and how many recovery codes are left. */
  async twoFactor(): Promise<TwoFactorStatus> {
    return this.#api.request<TwoFactorStatus>('GET', '/api/account/two-factor');
  }

  /**
   * Starts enrolment: a new secret and its QR code (an SVG data: URL) for an authenticator app.
   * Nothing changes until `confirmTwoFactor` gets a code from the app.
   */
  async beginTwoFactor(): Promise<TwoFactorEnrolment> {
    return this.#api.request<TwoFactorEnrolment>('POST', '/api/account/two-factor');
  }

  /**
   * Turns two-factor sign-in on with the first code the app shows; resolves to the recovery
   * codes — shown this once, never again — and signs out every other device.
   */
  async confirmTwoFactor(code: string): Promise<RecoveryCodes> {
    const request: ConfirmTwoFactorRequest = { code };
    return this.#api.request<RecoveryCodes>('POST', '/api/account/two-factor/confirm', request);
  }

  /** Turns two-factor sign-in off, with the password and a current (or recovery) code. */
  async disableTwoFactor(password: string, code: string): Promise<void> {
    const request: DisableTwoFactorRequest = { password, code };
    await this.#api.request('POST', '/api/account/two-factor/disable', request);
  }
}
