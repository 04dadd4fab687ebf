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
import type { TokenSigner } from './tokens.ts';

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

  /** `onRevoked` hears of every session signed out or revoked, to cut its connections off. */
  constructor(storage: Storage, signer: TokenSigner, refreshTtlSeconds: number, onRevoked: (deviceId: DeviceId) => void) {
    this.#storage = storage;
    this.#signer = signer;
    this.#refreshTtlMs = refreshTtlSeconds * 1000;
    this.#onRevoked = onRevoked;
  }

  async register(request: RegisterRequest): Promise<Session> {
    const user: UserRecord = {
      id: randomUUID() as UserId,
      username: request.username,
      displayName: request.displayName ?? request.username,
      passwordHash: await hashPassword(request.password),
      createdAt: Date.now(),
    };
    await this.#storage.accounts.createUser(user);
    return this.#startSession(user);
  }

  async login(request: LoginRequest): Promise<Session> {
    const user = await this.#storage.accounts.getUserByUsername(request.username.toLowerCase());
    // Verify against a dummy hash for unknown users so the response time does not tell.
    const ok = await verifyPassword(request.password, user?.passwordHash ?? (await dummyHash));
    if (!user || !ok) throw new OutpostError('unauthorized', 'wrong username or password');
    return this.#startSession(user);
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
    if (familyId) this.#onRevoked(familyId as DeviceId);
  }

  async #startSession(user: UserRecord): Promise<Session> {
    const now = Date.now();
    const familyId = randomUUID();
    const { token, record } = this.#newRefreshToken(now);
    await this.#storage.accounts.createRefreshToken({ ...record, familyId, userId: user.id });
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
