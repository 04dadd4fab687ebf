// Accounts on Postgres: users and refresh-token families (row locks make rotation exact across nodes).
import type pg from 'pg';
import { OutpostError, type UserId } from '@outpost/shared-schema';
import type { Accounts, RefreshTokenRecord, RotateResult, UserRecord } from '../Accounts.ts';
import { inGivenOrder, toUser, userColumns, type UserRow } from '../rows.ts';
import { all, count, one } from './query.ts';
import { inTransaction } from './transaction.ts';

export class PostgresAccounts implements Accounts {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async createUser(user: UserRecord): Promise<void> {
    const result = await this.#pool.query(
      `INSERT INTO users (${userColumns}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING`,
      [user.id, user.username, user.displayName, user.passwordHash, user.createdAt],
    );
    if (result.rowCount === 0) throw new OutpostError('conflict', 'username is taken');
  }

  async getUserById(id: UserId): Promise<UserRecord | null> {
    const row = await one<UserRow>(this.#pool, `SELECT ${userColumns} FROM users WHERE id = $1`, [id]);
    return row ? toUser(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const row = await one<UserRow>(this.#pool, `SELECT ${userColumns} FROM users WHERE username = $1`, [username]);
    return row ? toUser(row) : null;
  }

  async getUsersByIds(ids: readonly UserId[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = await all<UserRow>(this.#pool, `SELECT ${userColumns} FROM users WHERE id = ANY($1::text[])`, [ids]);
    return inGivenOrder(ids, rows.map(toUser), (user) => user.id);
  }

  async searchUsers(query: string, limit: number): Promise<UserRecord[]> {
    // COLLATE "C" orders like SQLite does, whatever the database's locale.
    const rows = await all<UserRow>(
      this.#pool,
      `SELECT ${userColumns} FROM users
       WHERE strpos(lower(username), $1) > 0 OR strpos(lower(display_name), $1) > 0
       ORDER BY username COLLATE "C" LIMIT $2`,
      [query.toLowerCase(), limit],
    );
    return rows.map(toUser);
  }

  async setPasswordHash(id: UserId, passwordHash: string): Promise<boolean> {
    return ((await this.#pool.query('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, id])).rowCount ?? 0) > 0;
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [token.id, token.familyId, token.userId, token.tokenHash, token.expiresAt, token.createdAt],
    );
  }

  async rotateRefreshToken(tokenHash: string, next: Omit<RefreshTokenRecord, 'familyId' | 'userId'>, now: number): Promise<RotateResult> {
    return inTransaction(this.#pool, async (client): Promise<RotateResult> => {
      // FOR UPDATE: a second rotation of the same token waits here, then sees it used.
      const row = await one<{ family_id: string; user_id: string; expires_at: number; used_at: number | null; revoked_at: number | null }>(
        client,
        'SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE',
        [tokenHash],
      );
      if (!row) return { outcome: 'unknown' };
      const userId = row.user_id as UserId;
      const familyId = row.family_id;
      if (row.used_at !== null || row.revoked_at !== null) {
        await client.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, now]);
        return { outcome: 'reused', userId, familyId };
      }
      if (row.expires_at <= now) return { outcome: 'expired' };
      await client.query('UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [tokenHash, now]);
      await client.query(
        `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [next.id, familyId, userId, next.tokenHash, next.expiresAt, next.createdAt],
      );
      return { outcome: 'rotated', userId, familyId };
    });
  }

  async revokeRefreshToken(tokenHash: string): Promise<string | null> {
    const row = await one<{ family_id: string }>(
      this.#pool,
      `WITH token AS (SELECT family_id FROM refresh_tokens WHERE token_hash = $1),
            revoked AS (
              UPDATE refresh_tokens SET revoked_at = $2
              WHERE family_id IN (SELECT family_id FROM token) AND revoked_at IS NULL
            )
       SELECT family_id FROM token`,
      [tokenHash, Date.now()],
    );
    return row?.family_id ?? null;
  }

  async isSessionActive(familyId: string, now: number): Promise<boolean> {
    const n = await count(
      this.#pool,
      'SELECT count(*) AS n FROM refresh_tokens WHERE family_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2',
      [familyId, now],
    );
    return n > 0;
  }

  async activeSessions(familyIds: readonly string[], now: number): Promise<Set<string>> {
    const rows = await all<{ family_id: string }>(
      this.#pool,
      `SELECT DISTINCT family_id FROM refresh_tokens
       WHERE family_id = ANY($1::text[]) AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`,
      [familyIds, now],
    );
    return new Set(rows.map((row) => row.family_id));
  }
}
