// Two-factor sign-in with TOTP (RFC 6238, the otpauth library): enrolment (secret and QR code,
// confirmed by a first code), recovery codes (shown once, stored hashed, each used once), checking
// a code at sign-in (each time step accepted once, a bounded number of tries per user) and
// turning it off (password and a code).
import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import qrcode from 'qrcode-generator';
import {
  OutpostError,
  type DeviceId,
  type DisableTwoFactorRequest,
  type RecoveryCodes,
  type TwoFactorEnrolment,
  type TwoFactorStatus,
  type UserId,
} from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { Audit } from '../audit/Audit.ts';
import type { RateLimiter } from '../rateLimiter.ts';
import type { AccountSecurity } from './accountSecurity.ts';
import { verifyPassword } from './passwords.ts';

const PERIOD = 30;
const DIGITS = 6;
/** Codes of the step before and after are accepted too (clocks drift). */
const WINDOW = 1;
const RECOVERY_CODES = 10;
const ISSUER = 'Outpost';

/** "abcde-fghij": 50 random bits in an alphabet without look-alikes. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

function normalise(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalise(code)).digest('hex');
}

function totp(secret: string, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secret) });
}

export type CodeCheck = { ok: true; recoveryCodeUsed: boolean } | { ok: false };

export class TwoFactor {
  readonly #storage: Storage;
  readonly #audit: Audit;
  readonly #account: AccountSecurity;
  readonly #codesPerUser: RateLimiter;

  /** `codesPerUser` bounds how many codes a user's account may be tried with (guessing 10^6 codes). */
  constructor(storage: Storage, audit: Audit, account: AccountSecurity, codesPerUser: RateLimiter) {
    this.#storage = storage;
    this.#audit = audit;
    this.#account = account;
    this.#codesPerUser = codesPerUser;
  }

  async status(userId: UserId): Promise<TwoFactorStatus> {
    const factor = await this.#storage.secondFactors.getSecondFactor(userId);
    const enabled = factor?.enabledAt != null;
    return { enabled, recoveryCodesLeft: enabled ? await this.#storage.secondFactors.recoveryCodesLeft(userId) : 0 };
  }

  /** True when signing in to this account takes a second factor. */
  async required(userId: UserId): Promise<boolean> {
    return (await this.#storage.secondFactors.getSecondFactor(userId))?.enabledAt != null;
  }

  /** A new secret, pending until `confirm`; starting again replaces a pending one. */
  async begin(userId: UserId, username: string): Promise<TwoFactorEnrolment> {
    const secret = new Secret({ size: 20 }).base32;
    if (!(await this.#storage.secondFactors.beginSecondFactor(userId, secret, Date.now()))) {
      throw new OutpostError('conflict', 'two-factor sign-in is already on; turn it off first to enrol another authenticator');
    }
    const uri = totp(secret, username).toString();
    const qr = qrcode(0, 'M');
    qr.addData(uri);
    qr.make();
    const svg = qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true });
    return { secret, uri, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /**
   * Checks the first code of a pending enrolment and turns two-factor sign-in on: this device
   * counts as verified, every other device is signed out (they sign in again with a code), and
   * the recovery codes are returned — the only time they are shown.
   */
  async confirm(userId: UserId, deviceId: DeviceId, code: string): Promise<RecoveryCodes> {
    await this.#codesPerUser.take(userId);
    const factor = await this.#storage.secondFactors.getSecondFactor(userId);
    if (!factor || factor.enabledAt !== null) throw new OutpostError('conflict', 'no enrolment is waiting for a code; start again');
    const step = this.#stepOf(factor.secret, code);
    if (step === null) throw new OutpostError('invalidInput', 'that code is not the one the authenticator shows now; try the next one', { field: 'code' });
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    const now = Date.now();
    if (!(await this.#storage.secondFactors.enableSecondFactor(userId, step, now, codes.map(hashRecoveryCode)))) {
      throw new OutpostError('conflict', 'no enrolment is waiting for a code; start again');
    }
    await this.#storage.devices.markSecondFactor(deviceId, now);
    await this.#audit.record('secondFactor.enabled', userId, userId);
    const signedOut = await this.#account.signOut(userId, userId, { allBut: deviceId }, 'secondFactorEnabled');
    return { recoveryCodes: codes, signedOut: signedOut.length };
  }

  /** Turns two-factor sign-in off, with the password and a current code (or a recovery code). */
  async disable(userId: UserId, request: DisableTwoFactorRequest): Promise<void> {
    const user = await this.#storage.accounts.getUserById(userId);
    if (!user) throw new OutpostError('unauthorized', 'user no longer exists');
    if (!(await verifyPassword(request.password, user.passwordHash))) throw new OutpostError('forbidden', 'the password is wrong', { field: 'password' });
    if (!(await this.check(userId, request.code)).ok) throw new OutpostError('forbidden', 'that code is wrong or was used already', { field: 'code' });
    await this.#storage.secondFactors.removeSecondFactor(userId);
    await this.#audit.record('secondFactor.disabled', userId, userId);
  }

  /**
   * Checks a code at sign-in: an authenticator code of the current time step (each step works
   * once) or an unused recovery code (used up by this). Counts against the user's code tries.
   */
  async check(userId: UserId, code: string): Promise<CodeCheck> {
    await this.#codesPerUser.take(userId);
    const factor = await this.#storage.secondFactors.getSecondFactor(userId);
    if (!factor || factor.enabledAt === null) return { ok: false };
    const digits = code.replace(/\s/g, '');
    if (/^\d+$/.test(digits)) {
      const step = this.#stepOf(factor.secret, digits);
      return step !== null && (await this.#storage.secondFactors.acceptStep(userId, step)) ? { ok: true, recoveryCodeUsed: false } : { ok: false };
    }
    if (!(await this.#storage.secondFactors.useRecoveryCode(userId, hashRecoveryCode(code), Date.now()))) return { ok: false };
    const left = await this.#storage.secondFactors.recoveryCodesLeft(userId);
    await this.#audit.record('secondFactor.recoveryCodeUsed', userId, userId, { left });
    return { ok: true, recoveryCodeUsed: true };
  }

  /** The time step `code` belongs to (within the window), or null. */
  #stepOf(secret: string, code: string): number | null {
    const digits = code.replace(/\s/g, '');
    if (!new RegExp(`^\\d{${DIGITS}}$`).test(digits)) return null;
    const now = Date.now();
    const delta = totp(secret, '').validate({ token: digits, timestamp: now, window: WINDOW });
    return delta === null ? null : TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
  }
}
