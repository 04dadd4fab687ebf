// The devices table's row shape on both backends and its conversion to DeviceRecord.
import type { UserId } from '@outpost/shared-schema';
import type { DeviceRecord } from './Devices.ts';

export interface DeviceRow {
  id: string;
  user_id: string;
  name: string;
  address: string;
  created_at: number;
  last_seen_at: number;
  second_factor_at: number | null;
}

export const deviceColumns = 'id, user_id, name, address, created_at, last_seen_at, second_factor_at';

export function toDevice(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    userId: row.user_id as UserId,
    name: row.name,
    address: row.address,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    secondFactorAt: row.second_factor_at === null ? null : Number(row.second_factor_at),
  };
}

/** Device names come from a header: bounded before they are stored. */
export const DEVICE_NAME_CHARS = 100;
