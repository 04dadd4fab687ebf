// Administration on Postgres.
import type pg from 'pg';
import type { UserId } from '@outpost/shared-schema';
import type { Administration, PasswordResetRecord, ServerCounts, UserAccount } from '../Administration.ts';
import { toUser, userColumns, type UserRow } from '../rows.ts';
import { all, one } from './query.ts';
import { inTransaction } from './transaction.ts';

export class PostgresAdministration implements Administration {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async listUsers({ query, after, limit }: { query?: string; after?: string; limit: number }): Promise<UserAccount[]> {
    const rows = await all<UserRow & { deactivated_at: number | null }>(
      this.#pool,
      `SELECT ${userColumns}, deactivated_at FROM users
       WHERE ($1 = '' OR strpos(lower(username), $1) > 0 OR strpos(lower(display_name), $1) > 0) AND username COLLATE "C" > $2
       ORDER BY username COLLATE "C" LIMIT $3`,
      [(query ?? '').toLowerCase(), after ?? '', limit],
    );
    return rows.map((row) => ({ ...toUser(row), deactivatedAt: row.deactivated_at === null ? null : Number(row.deactivated_at) }));
  }

  async firstUserId(): Promise<UserId | null> {
    return ((await one<{ id: string }>(this.#pool, 'SELECT id FROM users ORDER BY created_at, id COLLATE "C" LIMIT 1', []))?.id as UserId | undefined) ?? null;
  }

  async deactivatedAt(userId: UserId): Promise<number | null> {
    const at = (await one<{ deactivated_at: number | null }>(this.#pool, 'SELECT deactivated_at FROM users WHERE id = $1', [userId]))?.deactivated_at;
    return at === null || at === undefined ? null : Number(at);
  }

  async setDeactivated(userId: UserId, at: number | null): Promise<boolean> {
    const result = at === null
      ? await this.#pool.query('UPDATE users SET deactivated_at = NULL WHERE id = $1 AND deactivated_at IS NOT NULL', [userId])
      : await this.#pool.query('UPDATE users SET deactivated_at = $1 WHERE id = $2 AND deactivated_at IS NULL', [at, userId]);
    return (result.rowCount ?? 0) > 0;
  }

  async createPasswordReset(reset: PasswordResetRecord): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query('UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL', [reset.createdAt, reset.userId]);
      await client.query('INSERT INTO password_resets (code_hash, user_id, issued_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
        reset.codeHash, reset.userId, reset.issuedBy, reset.createdAt, reset.expiresAt,
      ]);
    });
  }

  async consumePasswordReset(codeHash: string, now: number): Promise<UserId | null> {
    const row = await one<{ user_id: string }>(
      this.#pool,
      'UPDATE password_resets SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id',
      [now, codeHash],
    );
    return (row?.user_id as UserId | undefined) ?? null;
  }

  async counts(now: number): Promise<ServerCounts> {
    const row = await one<{ [K in keyof ServerCounts]: number }>(
      this.#pool,
      `SELECT (SELECT count(*) FROM users) AS users,
              (SELECT count(*) FROM users WHERE deactivated_at IS NOT NULL) AS "deactivatedUsers",
              (SELECT count(DISTINCT family_id) FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > $1) AS "signedInDevices",
              (SELECT count(*) FROM conversations) AS conversations,
              (SELECT count(*) FROM messages WHERE deleted_at IS NULL) AS messages`,
      [now],
    );
    return {
      users: Number(row?.users ?? 0),
      deactivatedUsers: Number(row?.deactivatedUsers ?? 0),
      signedInDevices: Number(row?.signedInDevices ?? 0),
      conversations: Number(row?.conversations ?? 0),
      messages: Number(row?.messages ?? 0),
    };
  }
}
