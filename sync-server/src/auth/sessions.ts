// Register, log in, refresh and log out: users, hashed rotating refresh tokens, access tokens.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  OutpostError,
  type DeviceId,
  type LoginRequest,
  type PublicUser,
  type RegisterRequest,
  type Session,
  type UserId,
  unreachable,
} from '@outpost/shared-schema';
import type { Storage, UserRecord } from '@outpost/storage';
import { dummyHash, hashPassword, verifyPassword } from './passwords.ts';
import type { Audit } from '../audit/Audit.ts';
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

  /** `onRevoked` hears of every session signed out or revoked, to cut its connections off. */
  constructor(storage: Storage, signer: TokenSigner, refreshTtlSeconds: number, onRevoked: (deviceId: DeviceId) => void, audit: Audit) {
    this.#storage = storage;
    this.#signer = signer;
    this.#refreshTtlMs = refreshTtlSeconds * 1000;
    this.#onRevoked = onRevoked;
    this.#audit = audit;
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
    return this.#startSession(user, client);
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
    const session = await this.#startSession(user, client);
    await this.#audit.record('signIn.succeeded', user.id, session.deviceId, { address: client.address });
    return session;
  }

  async refresh(refreshToken: string): Promise<Session> {
    const now = Date.now();
    const next = this.#newRefreshToken(now);
    const result = await this.#storage.accounts.rotateRefreshToken(hashToken(refreshToken), next.record, now);
    switch (result.outcome) {
      case 'rotated': {
        const user = await this.#storage.accounts.getUserById(result.userId);
        if (!user) throw new OutpostError('unauthorized', 'user no longer exists');
        return this.#session(user, result.familyId as DeviceId, next.token);
      }
      case 'reused':
        this.#onRevoked(result.familyId as DeviceId);
        await this.#audit.record('device.signedOut', null, result.familyId, { user: result.userId, reason: 'refreshTokenReused' });
        throw new OutpostError('unauthorized', 'refresh token was already used; the session is revoked, sign in again');
      case 'expired':
        throw new OutpostError('unauthorized', 'refresh token expired; sign in again');
      case 'unknown':
        throw new OutpostError('unauthorized', 'refresh token not recognised; sign in again');
      default:
        return unreachable(result);
    }
  }

  async logout(refreshToken: string): Promise<void> {
    const familyId = await this.#storage.accounts.revokeRefreshToken(hashToken(refreshToken));
    if (!familyId) return;
    this.#onRevoked(familyId as DeviceId);
    await this.#audit.record('device.signedOut', null, familyId, { reason: 'signedOut' });
  }

  async #startSession(user: UserRecord, client: ClientInfo): Promise<Session> {
    const now = Date.now();
    const familyId = randomUUID();
    const { token, record } = this.#newRefreshToken(now);
    await this.#storage.accounts.createRefreshToken({ ...record, familyId, userId: user.id });
    await this.#audit.record('device.added', user.id, familyId, { address: client.address, userAgent: client.userAgent.slice(0, 200) });
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
