// Accounts on SQLite: users and refresh-token families.
import { OutpostError, type UserId } from '@outpost/shared-schema';
import type { Accounts, RefreshTokenRecord, RotateResult, UserRecord } from '../Accounts.ts';
import { inGivenOrder, toUser, userColumns, type UserRow } from '../rows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

export class SqliteAccounts implements Accounts {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async createUser(user: UserRecord): Promise<void> {
    const result = this.#sql.run(
      `INSERT INTO users (${userColumns}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
      user.id, user.username, user.displayName, user.passwordHash, user.createdAt,
    );
    if (result.changes === 0) throw new OutpostError('conflict', 'username is taken');
  }

  async getUserById(id: UserId): Promise<UserRecord | null> {
    const row = this.#sql.get<UserRow>(`SELECT ${userColumns} FROM users WHERE id = ?`, id);
    return row ? toUser(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const row = this.#sql.get<UserRow>(`SELECT ${userColumns} FROM users WHERE username = ?`, username);
    return row ? toUser(row) : null;
  }

  async getUsersByIds(ids: readonly UserId[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = this.#sql.all<UserRow>(`SELECT ${userColumns} FROM users WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(ids));
    return inGivenOrder(ids, rows.map(toUser), (user) => user.id);
  }

  async searchUsers(query: string, limit: number): Promise<UserRecord[]> {
    const needle = query.toLowerCase();
    const rows = this.#sql.all<UserRow>(
      `SELECT ${userColumns} FROM users
       WHERE instr(outpost_lower(username), ?) > 0 OR instr(outpost_lower(display_name), ?) > 0
       ORDER BY username LIMIT ?`,
      needle, needle, limit,
    );
    return rows.map(toUser);
  }

  async setPasswordHash(id: UserId, passwordHash: string): Promise<boolean> {
    return this.#sql.run('UPDATE users SET password_hash = ? WHERE id = ?', passwordHash, id).changes > 0;
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.#sql.run(
      `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      token.id, token.familyId, token.userId, token.tokenHash, token.expiresAt, token.createdAt,
    );
  }

  async rotateRefreshToken(tokenHash: string, next: Omit<RefreshTokenRecord, 'familyId' | 'userId'>, now: number): Promise<RotateResult> {
    return this.#sql.immediate((): RotateResult => {
      const row = this.#sql.get<{ family_id: string; user_id: string; expires_at: number; used_at: number | null; revoked_at: number | null }>(
        'SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?',
        tokenHash,
      );
      if (!row) return { outcome: 'unknown' };
      const userId = row.user_id as UserId;
      const familyId = row.family_id;
      if (row.used_at !== null || row.revoked_at !== null) {
        this.#sql.run('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL', now, familyId);
        return { outcome: 'reused', userId, familyId };
      }
      if (row.expires_at <= now) return { outcome: 'expired' };
      this.#sql.run('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?', now, tokenHash);
      this.#sql.run(
        `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
        next.id, familyId, userId, next.tokenHash, next.expiresAt, next.createdAt,
      );
      return { outcome: 'rotated', userId, familyId };
    });
  }

  async revokeRefreshToken(tokenHash: string): Promise<string | null> {
    return this.#sql.immediate(() => {
      const row = this.#sql.get<{ family_id: string }>('SELECT family_id FROM refresh_tokens WHERE token_hash = ?', tokenHash);
      if (!row) return null;
      this.#sql.run('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL', Date.now(), row.family_id);
      return row.family_id;
    });
  }

  async isSessionActive(familyId: string, now: number): Promise<boolean> {
    return (
      this.#sql.count(
        'SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?',
        familyId, now,
      ) > 0
    );
  }

  async activeSessions(familyIds: readonly string[], now: number): Promise<Set<string>> {
    const rows = this.#sql.all<{ family_id: string }>(
      `SELECT DISTINCT family_id FROM refresh_tokens
       WHERE family_id IN (SELECT value FROM json_each(?)) AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
      JSON.stringify(familyIds), now,
    );
    return new Set(rows.map((row) => row.family_id));
  }
}
