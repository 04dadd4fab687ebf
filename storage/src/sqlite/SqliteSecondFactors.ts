// Two-factor secrets and recovery codes on SQLite.
import type { UserId } from '@outpost/shared-schema';
import type { SecondFactorRecord, SecondFactors } from '../SecondFactors.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

interface Row {
  user_id: string;
  secret: string;
  created_at: number;
  enabled_at: number | null;
  last_step: number;
}

export class SqliteSecondFactors implements SecondFactors {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async getSecondFactor(userId: UserId): Promise<SecondFactorRecord | null> {
    const row = this.#sql.get<Row>('SELECT user_id, secret, created_at, enabled_at, last_step FROM second_factors WHERE user_id = ?', userId);
    return row ? { userId: row.user_id as UserId, secret: row.secret, createdAt: row.created_at, enabledAt: row.enabled_at, lastStep: row.last_step } : null;
  }

  async beginSecondFactor(userId: UserId, secret: string, at: number): Promise<boolean> {
    const result = this.#sql.run(
      `INSERT INTO second_factors (user_id, secret, created_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
       WHERE second_factors.enabled_at IS NULL`,
      userId, secret, at,
    );
    return result.changes > 0;
  }

  async enableSecondFactor(userId: UserId, step: number, at: number, recoveryCodeHashes: readonly string[]): Promise<boolean> {
    return this.#sql.immediate(() => {
      const result = this.#sql.run('UPDATE second_factors SET enabled_at = ?, last_step = ? WHERE user_id = ? AND enabled_at IS NULL', at, step, userId);
      if (result.changes === 0) return false;
      this.#sql.run('DELETE FROM recovery_codes WHERE user_id = ?', userId);
      for (const hash of recoveryCodeHashes) this.#sql.run('INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)', userId, hash);
      return true;
    });
  }

  async acceptStep(userId: UserId, step: number): Promise<boolean> {
    return this.#sql.run('UPDATE second_factors SET last_step = ? WHERE user_id = ? AND last_step < ?', step, userId, step).changes > 0;
  }

  async useRecoveryCode(userId: UserId, codeHash: string, at: number): Promise<boolean> {
    return this.#sql.run('UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL', at, userId, codeHash).changes > 0;
  }

  async recoveryCodesLeft(userId: UserId): Promise<number> {
    return this.#sql.count('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL', userId);
  }

  async removeSecondFactor(userId: UserId): Promise<boolean> {
    return this.#sql.immediate(() => {
      this.#sql.run('DELETE FROM recovery_codes WHERE user_id = ?', userId);
      return this.#sql.run('DELETE FROM second_factors WHERE user_id = ?', userId).changes > 0;
    });
  }
}
