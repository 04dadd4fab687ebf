// Signed-in devices on Postgres.
import type pg from 'pg';
import type { UserId } from '@outpost/shared-schema';
import type { DeviceRecord, DeviceSelection, Devices } from '../Devices.ts';
import { DEVICE_NAME_CHARS, deviceColumns, toDevice, type DeviceRow } from '../deviceRows.ts';
import { all, one } from './query.ts';

const active = (n: number) =>
  `EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = d.id AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $${n})`;

export class PostgresDevices implements Devices {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async addDevice(device: DeviceRecord): Promise<void> {
    await this.#pool.query(`INSERT INTO devices (${deviceColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      device.id, device.userId, device.name.slice(0, DEVICE_NAME_CHARS), device.address, device.createdAt, device.lastSeenAt, device.secondFactorAt,
    ]);
  }

  async getDevice(id: string): Promise<DeviceRecord | null> {
    const row = await one<DeviceRow>(this.#pool, `SELECT ${deviceColumns} FROM devices WHERE id = $1`, [id]);
    return row ? toDevice(row) : null;
  }

  async touchDevice(id: string, at: number, address: string): Promise<void> {
    await this.#pool.query('UPDATE devices SET last_seen_at = greatest(last_seen_at, $1), address = $2 WHERE id = $3', [at, address, id]);
  }

  async markSecondFactor(id: string, at: number): Promise<void> {
    await this.#pool.query('UPDATE devices SET second_factor_at = $1 WHERE id = $2', [at, id]);
  }

  async listDevices(userId: UserId, now: number): Promise<DeviceRecord[]> {
    const rows = await all<DeviceRow>(
      this.#pool,
      `SELECT ${deviceColumns.replace(/(\w+)/g, 'd.$1')} FROM devices d WHERE d.user_id = $1 AND ${active(2)} ORDER BY d.last_seen_at DESC, d.id`,
      [userId, now],
    );
    return rows.map(toDevice);
  }

  async signOutDevices(userId: UserId, which: DeviceSelection, now: number): Promise<string[]> {
    // One statement: the revoked tokens and the devices they belong to, atomically.
    const filter = 'only' in which ? 'AND d.id = $3' : 'allBut' in which ? 'AND d.id <> $3' : '';
    const params: unknown[] = [userId, now];
    if ('only' in which) params.push(which.only);
    else if ('allBut' in which) params.push(which.allBut);
    const rows = await all<{ family_id: string }>(
      this.#pool,
      `UPDATE refresh_tokens SET revoked_at = $2
       WHERE revoked_at IS NULL AND used_at IS NULL AND expires_at > $2
         AND family_id IN (SELECT d.id FROM devices d WHERE d.user_id = $1 ${filter})
       RETURNING family_id`,
      params,
    );
    return [...new Set(rows.map((row) => row.family_id))];
  }
}
