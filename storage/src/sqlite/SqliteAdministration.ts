// Administration on SQLite.
import type { UserId } from '@outpost/shared-schema';
import type { Administration, PasswordResetRecord, ServerCounts, UserAccount } from '../Administration.ts';
import { toUser, userColumns, type UserRow } from '../rows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

export class SqliteAdministration implements Administration {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async listUsers({ query, after, limit }: { query?: string; after?: string; limit: number }): Promise<UserAccount[]> {
    const needle = (query ?? '').toLowerCase();
    const rows = this.#sql.all<UserRow & { deactivated_at: number | null }>(
      `SELECT ${userColumns}, deactivated_at FROM users
       WHERE (? = '' OR instr(outpost_lower(username), ?) > 0 OR instr(outpost_lower(display_name), ?) > 0) AND username > ?
       ORDER BY username LIMIT ?`,
      needle, needle, needle, after ?? '', limit,
    );
    return rows.map((row) => ({ ...toUser(row), deactivatedAt: row.deactivated_at }));
  }

  async firstUserId(): Promise<UserId | null> {
    return (this.#sql.get<{ id: string }>('SELECT id FROM users ORDER BY created_at, id LIMIT 1')?.id as UserId | undefined) ?? null;
  }

  async deactivatedAt(userId: UserId): Promise<number | null> {
    return this.#sql.get<{ deactivated_at: number | null }>('SELECT deactivated_at FROM users WHERE id = ?', userId)?.deactivated_at ?? null;
  }

  async setDeactivated(userId: UserId, at: number | null): Promise<boolean> {
    const sql = at === null
      ? 'UPDATE users SET deactivated_at = NULL WHERE id = ? AND deactivated_at IS NOT NULL'
      : 'UPDATE users SET deactivated_at = ? WHERE id = ? AND deactivated_at IS NULL';
    return (at === null ? this.#sql.run(sql, userId) : this.#sql.run(sql, at, userId)).changes > 0;
  }

  async createPasswordReset(reset: PasswordResetRecord): Promise<void> {
    this.#sql.immediate(() => {
      this.#sql.run('UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL', reset.createdAt, reset.userId);
      this.#sql.run(
        'INSERT INTO password_resets (code_hash, user_id, issued_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
        reset.codeHash, reset.userId, reset.issuedBy, reset.createdAt, reset.expiresAt,
      );
    });
  }

  async consumePasswordReset(codeHash: string, now: number): Promise<UserId | null> {
    const row = this.#sql.get<{ user_id: string }>(
      'UPDATE password_resets SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id',
      now, codeHash, now,
    );
    return (row?.user_id as UserId | undefined) ?? null;
  }

  async counts(now: number): Promise<ServerCounts> {
    return this.#sql.deferred(() => ({
      users: this.#sql.count('SELECT count(*) AS n FROM users'),
      deactivatedUsers: this.#sql.count('SELECT count(*) AS n FROM users WHERE deactivated_at IS NOT NULL'),
      signedInDevices: this.#sql.count(
        'SELECT count(DISTINCT family_id) AS n FROM refresh_tokens WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > ?',
        now,
      ),
      conversations: this.#sql.count('SELECT count(*) AS n FROM conversations'),
      messages: this.#sql.count('SELECT count(*) AS n FROM messages WHERE deleted_at IS NULL'),
    }));
  }
}
