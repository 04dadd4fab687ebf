// Signed-in devices on SQLite.
import type { UserId } from '@outpost/shared-schema';
import type { DeviceRecord, DeviceSelection, Devices } from '../Devices.ts';
import { DEVICE_NAME_CHARS, deviceColumns, toDevice, type DeviceRow } from '../deviceRows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

const ACTIVE = 'EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = d.id AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > ?)';

export class SqliteDevices implements Devices {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async addDevice(device: DeviceRecord): Promise<void> {
    this.#sql.run(
      `INSERT INTO devices (${deviceColumns}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      device.id, device.userId, device.name.slice(0, DEVICE_NAME_CHARS), device.address, device.createdAt, device.lastSeenAt, device.secondFactorAt,
    );
  }

  async getDevice(id: string): Promise<DeviceRecord | null> {
    const row = this.#sql.get<DeviceRow>(`SELECT ${deviceColumns} FROM devices WHERE id = ?`, id);
    return row ? toDevice(row) : null;
  }

  async touchDevice(id: string, at: number, address: string): Promise<void> {
    this.#sql.run('UPDATE devices SET last_seen_at = max(last_seen_at, ?), address = ? WHERE id = ?', at, address, id);
  }

  async markSecondFactor(id: string, at: number): Promise<void> {
    this.#sql.run('UPDATE devices SET second_factor_at = ? WHERE id = ?', at, id);
  }

  async listDevices(userId: UserId, now: number): Promise<DeviceRecord[]> {
    const rows = this.#sql.all<DeviceRow>(
      `SELECT ${deviceColumns.replace(/(\w+)/g, 'd.$1')} FROM devices d WHERE d.user_id = ? AND ${ACTIVE} ORDER BY d.last_seen_at DESC, d.id`,
      userId, now,
    );
    return rows.map(toDevice);
  }

  async signOutDevices(userId: UserId, which: DeviceSelection, now: number): Promise<string[]> {
    return this.#sql.immediate(() => {
      const rows = this.#sql.all<{ id: string }>(`SELECT d.id FROM devices d WHERE d.user_id = ? AND ${ACTIVE}`, userId, now);
      const ids = rows.map((row) => row.id).filter((id) => ('only' in which ? id === which.only : 'allBut' in which ? id !== which.allBut : true));
      for (const id of ids) this.#sql.run('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL', now, id);
      return ids;
    });
  }
}
