// Users and their signed-in devices (refresh-token families): who may sign in, and whether a
// session is still alive.
import type { UserId } from '@outpost/shared-schema';

export interface UserRecord {
  id: UserId;
  username: string;
  displayName: string;
  passwordHash: string;
  createdAt: number;
}

export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  userId: UserId;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  tokenHash: string;
  expiresAt: number;
  createdAt: number;
}

export type RotateResult =
  | { outcome: 'rotated'; userId: UserId; familyId: string }
  /** The presented token was already used or revoked: its whole family is now revoked. */
  | { outcome: 'reused'; userId: UserId; familyId: string }
  | { outcome: 'expired' }
  | { outcome: 'unknown' };

export interface Accounts {
  /** Throws OutpostError('conflict') when the username is taken. */
  createUser(user: UserRecord): Promise<void>;
  getUserById(id: UserId): Promise<UserRecord | null>;
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** In the order of `ids`; unknown ids are left out. */
  getUsersByIds(ids: readonly UserId[]): Promise<UserRecord[]>;
  /** Users whose username or display name contains `query`, case-insensitive, by username. */
  searchUsers(query: string, limit: number): Promise<UserRecord[]>;
  /** Replaces the user's password hash; false when there is no such user. */
  setPasswordHash(id: UserId, passwordHash: string): Promise<boolean>;

  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  /**
   * Atomically consumes the token with `tokenHash` and stores `next` in the same family.
   * A token presented twice revokes its whole family.
   */
  rotateRefreshToken(tokenHash: string, next: Omit<RefreshTokenRecord, 'familyId' | 'userId'>, now: number): Promise<RotateResult>;
  /** Revokes the family of the token with `tokenHash`; returns the family id, or null if there is none. */
  revokeRefreshToken(tokenHash: string): Promise<string | null>;
  /** True while the family (a signed-in device) has a token that is neither used, revoked nor expired. */
  isSessionActive(familyId: string, now: number): Promise<boolean>;
  /** Of `familyIds`, the ones still signed in (as isSessionActive), in one query. */
  activeSessions(familyIds: readonly string[], now: number): Promise<Set<string>>;
}
