// Two-factor secrets and recovery codes on Postgres.
import type pg from 'pg';
import type { UserId } from '@outpost/shared-schema';
import type { SecondFactorRecord, SecondFactors } from '../SecondFactors.ts';
import { count, one } from './query.ts';
import { inTransaction } from './transaction.ts';

interface Row {
  user_id: string;
  secret: string;
  created_at: number;
  enabled_at: number | null;
  last_step: number;
}

export class PostgresSecondFactors implements SecondFactors {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async getSecondFactor(userId: UserId): Promise<SecondFactorRecord | null> {
    const row = await one<Row>(this.#pool, 'SELECT user_id, secret, created_at, enabled_at, last_step FROM second_factors WHERE user_id = $1', [userId]);
    return row
      ? { userId: row.user_id as UserId, secret: row.secret, createdAt: Number(row.created_at), enabledAt: row.enabled_at === null ? null : Number(row.enabled_at), lastStep: Number(row.last_step) }
      : null;
  }

  async beginSecondFactor(userId: UserId, secret: string, at: number): Promise<boolean> {
    const result = await this.#pool.query(
      `INSERT INTO second_factors (user_id, secret, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
       WHERE second_factors.enabled_at IS NULL`,
      [userId, secret, at],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async enableSecondFactor(userId: UserId, step: number, at: number, recoveryCodeHashes: readonly string[]): Promise<boolean> {
    return inTransaction(this.#pool, async (client) => {
      const result = await client.query('UPDATE second_factors SET enabled_at = $1, last_step = $2 WHERE user_id = $3 AND enabled_at IS NULL', [at, step, userId]);
      if ((result.rowCount ?? 0) === 0) return false;
      await client.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
      await client.query('INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [userId, [...recoveryCodeHashes]]);
      return true;
    });
  }

  async acceptStep(userId: UserId, step: number): Promise<boolean> {
    const result = await this.#pool.query('UPDATE second_factors SET last_step = $1 WHERE user_id = $2 AND last_step < $1', [step, userId]);
    return (result.rowCount ?? 0) > 0;
  }

  async useRecoveryCode(userId: UserId, codeHash: string, at: number): Promise<boolean> {
    const result = await this.#pool.query('UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL', [at, userId, codeHash]);
    return (result.rowCount ?? 0) > 0;
  }

  async recoveryCodesLeft(userId: UserId): Promise<number> {
    return count(this.#pool, 'SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
  }

  async removeSecondFactor(userId: UserId): Promise<boolean> {
    return inTransaction(this.#pool, async (client) => {
      await client.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
      return ((await client.query('DELETE FROM second_factors WHERE user_id = $1', [userId])).rowCount ?? 0) > 0;
    });
  }
}
