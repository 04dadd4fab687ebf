// The devices a user is signed in on. A device is a refresh-token family (the family id is the
// device id the access tokens carry); its record says what it is, where it was last seen and
// whether it passed the second factor. Signing a device out revokes its family.
import type { UserId } from '@outpost/shared-schema';

export interface DeviceRecord {
  id: string;
  userId: UserId;
  /** What the user agent says it is, e.g. "Firefox on Linux". */
  name: string;
  /** The client's address when it was last seen. */
  address: string;
  createdAt: number;
  lastSeenAt: number;
  /** When it passed the second factor; null when it signed in without one. */
  secondFactorAt: number | null;
}

/** Which of a user's devices to sign out. */
export type DeviceSelection = { only: string } | { allBut: string } | { all: true };

export interface Devices {
  addDevice(device: DeviceRecord): Promise<void>;
  getDevice(id: string): Promise<DeviceRecord | null>;
  /** Notes that the device was seen now, from `address`. */
  touchDevice(id: string, at: number, address: string): Promise<void>;
  /** Notes that the device passed the second factor. */
  markSecondFactor(id: string, at: number): Promise<void>;
  /** The user's devices still signed in (as Accounts.isSessionActive), most recently seen first. */
  listDevices(userId: UserId, now: number): Promise<DeviceRecord[]>;
  /**
   * Revokes every refresh token of the user's selected devices in one transaction; returns the
   * ids of the devices that were signed in until now (a device of another user is never touched).
   */
  signOutDevices(userId: UserId, which: DeviceSelection, now: number): Promise<string[]>;
}
