// Register, log in, refresh and log out: users, hashed rotating refresh tokens, access tokens.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  OutpostError,
  type DeviceId,
  type LoginRequest,
  type PublicUser,
  type RegisterRequest,
  type SecondFactorNeed,
  type Session,
  type UserId,
  unreachable,
  SessionEnds,
} from '@outpost/shared-schema';
import type { Storage, UserRecord } from '@outpost/storage';
import { dummyHash, hashPassword, verifyPassword } from './passwords.ts';
import type { Audit } from '../audit/Audit.ts';
import { deviceName } from './deviceName.ts';
import type { TwoFactor } from './twoFactor.ts';
import type { TokenSigner } from './tokens.ts';

/** Where a sign-in comes from: the client's address and its User-Agent header. */
export interface ClientInfo {
  address: string;
  userAgent: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function publicUser(user: UserRecord): PublicUser {
  return { id: user.id, username: user.username, displayName: user.displayName };
}

export class Sessions {
  readonly #storage: Storage;
  readonly #signer: TokenSigner;
  readonly #refreshTtlMs: number;

  readonly #onRevoked: (deviceId: DeviceId) => void;
  readonly #audit: Audit;
  readonly #twoFactor: TwoFactor;

  /** `onRevoked` hears of every session signed out or revoked, to cut its connections off. */
  constructor(options: {
    storage: Storage;
    signer: TokenSigner;
    refreshTtlSeconds: number;
    onRevoked: (deviceId: DeviceId) => void;
    audit: Audit;
    twoFactor: TwoFactor;
  }) {
    this.#storage = options.storage;
    this.#signer = options.signer;
    this.#refreshTtlMs = options.refreshTtlSeconds * 1000;
    this.#onRevoked = options.onRevoked;
    this.#audit = options.audit;
    this.#twoFactor = options.twoFactor;
  }

  async register(request: RegisterRequest, client: ClientInfo): Promise<Session> {
    const user: UserRecord = {
      id: randomUUID() as UserId,
      username: request.username,
      displayName: request.displayName ?? request.username,
      passwordHash: await hashPassword(request.password),
      createdAt: Date.now(),
    };
    await this.#storage.accounts.createUser(user);
    return this.#startSession(user, client, null);
  }

  async login(request: LoginRequest, client: ClientInfo): Promise<Session> {
    const username = request.username.toLowerCase();
    const user = await this.#storage.accounts.getUserByUsername(username);
    // Verify against a dummy hash for unknown users so the response time does not tell.
    const ok = await verifyPassword(request.password, user?.passwordHash ?? (await dummyHash));
    if (!user || !ok) {
      await this.#audit.record('signIn.failed', user?.id ?? null, null, { username: username.slice(0, 64), reason: user ? 'password' : 'unknownUser', address: client.address });
      throw new OutpostError('unauthorized', 'wrong username or password');
    }
    if ((await this.#storage.administration.deactivatedAt(user.id)) !== null) {
      await this.#audit.record('signIn.failed', user.id, null, { username, reason: 'deactivated', address: client.address });
      throw new OutpostError('forbidden', 'this account is deactivated; ask a server administrator');
    }
    let verifiedAt: number | null = null;
    if (await this.#twoFactor.required(user.id)) {
      const fail = async (need: SecondFactorNeed, message: string): Promise<never> => {
        await this.#audit.record('signIn.failed', user.id, null, { username, reason: need === 'required' ? 'secondFactorMissing' : 'secondFactorWrong', address: client.address });
        throw new OutpostError('unauthorized', message, { secondFactor: need });
      };
      if (!request.code) return fail('required', 'enter the code from your authenticator app (or a recovery code)');
      if (!(await this.#twoFactor.check(user.id, request.code)).ok) return fail('invalid', 'that code is wrong or was used already; try the next one');
      verifiedAt = Date.now();
    }
    const session = await this.#startSession(user, client, verifiedAt);
    await this.#audit.record('signIn.succeeded', user.id, session.deviceId, { address: client.address, secondFactor: verifiedAt !== null });
    return session;
  }

  async refresh(refreshToken: string, client: ClientInfo): Promise<Session> {
    const now = Date.now();
    const next = this.#newRefreshToken(now);
    const result = await this.#storage.accounts.rotateRefreshToken(hashToken(refreshToken), next.record, now);
    switch (result.outcome) {
      case 'rotated': {
        const user = await this.#storage.accounts.getUserById(result.userId);
        if (!user) throw new OutpostError('unauthorized', 'user no longer exists', { session: SessionEnds.revoked });
        // A deactivation racing this rotation: the new token must not outlive it.
        if ((await this.#storage.administration.deactivatedAt(user.id)) !== null) {
          await this.#storage.devices.signOutDevices(user.id, { only: result.familyId }, now);
          this.#onRevoked(result.familyId as DeviceId);
          throw new OutpostError('unauthorized', 'this account is deactivated; ask a server administrator', { session: SessionEnds.revoked });
        }
        // A device that never passed the second factor does not stay signed in to an account that has one.
        if ((await this.#storage.devices.getDevice(result.familyId))?.secondFactorAt == null && (await this.#twoFactor.required(user.id))) {
          await this.#storage.devices.signOutDevices(user.id, { only: result.familyId }, now);
          this.#onRevoked(result.familyId as DeviceId);
          await this.#audit.record('device.signedOut', null, result.familyId, { user: user.id, reason: 'secondFactorRequired' });
          throw new OutpostError('unauthorized', 'this account now signs in with a second factor; sign in again', { secondFactor: 'required', session: SessionEnds.revoked });
        }
        await this.#storage.devices.touchDevice(result.familyId, now, client.address);
        return this.#session(user, result.familyId as DeviceId, next.token);
      }
      case 'reused':
        this.#onRevoked(result.familyId as DeviceId);
        await this.#audit.record('device.signedOut', null, result.familyId, { user: result.userId, reason: 'refreshTokenReused' });
        throw new OutpostError('unauthorized', 'refresh token was already used; the session is revoked, sign in again', { session: SessionEnds.revoked });
      case 'expired':
        throw new OutpostError('unauthorized', 'refresh token expired; sign in again', { session: SessionEnds.expired });
      case 'unknown':
        throw new OutpostError('unauthorized', 'refresh token not recognised; sign in again', { session: SessionEnds.expired });
      default:
        return unreachable(result);
    }
  }

  readonly #seen = new Map<DeviceId, number>();

  /** A device used the API: its "last seen" moves on (at most once a minute per device and node). */
  async seen(deviceId: DeviceId, address: string, now = Date.now()): Promise<void> {
    if (now - (this.#seen.get(deviceId) ?? 0) < 60_000) return;
    if (this.#seen.size > 10_000) this.#seen.clear();
    this.#seen.set(deviceId, now);
    await this.#storage.devices.touchDevice(deviceId, now, address);
  }

  async logout(refreshToken: string): Promise<void> {
    const familyId = await this.#storage.accounts.revokeRefreshToken(hashToken(refreshToken));
    if (!familyId) return;
    this.#onRevoked(familyId as DeviceId);
    await this.#audit.record('device.signedOut', null, familyId, { reason: 'signedOut' });
  }

  async #startSession(user: UserRecord, client: ClientInfo, secondFactorAt: number | null): Promise<Session> {
    const now = Date.now();
    const familyId = randomUUID();
    const { token, record } = this.#newRefreshToken(now);
    const name = deviceName(client.userAgent);
    await this.#storage.devices.addDevice({ id: familyId, userId: user.id, name, address: client.address, createdAt: now, lastSeenAt: now, secondFactorAt });
    await this.#storage.accounts.createRefreshToken({ ...record, familyId, userId: user.id });
    await this.#audit.record('device.added', user.id, familyId, { device: name, address: client.address });
    return this.#session(user, familyId as DeviceId, token);
  }

  #newRefreshToken(now: number) {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      record: { id: randomUUID(), tokenHash: hashToken(token), expiresAt: now + this.#refreshTtlMs, createdAt: now },
    };
  }

  async #session(user: UserRecord, deviceId: DeviceId, refreshToken: string): Promise<Session> {
    const accessToken = await this.#signer.sign({ userId: user.id, deviceId });
    return { user: publicUser(user), accessToken, expiresIn: this.#signer.ttlSeconds, refreshToken, deviceId };
  }
}
