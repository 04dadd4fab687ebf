// What a server administrator needs of storage: the people on the server (and who came first),
// deactivating and reactivating them, one-time password reset codes, and a few counts.
import type { UserId } from '@outpost/shared-schema';
import type { UserRecord } from './Accounts.ts';

export interface UserAccount extends UserRecord {
  /** When an administrator deactivated the account; null while it is active. */
  deactivatedAt: number | null;
}

export interface PasswordResetRecord {
  /** SHA-256 of the code, hex. The code itself is never stored. */
  codeHash: string;
  userId: UserId;
  issuedBy: UserId;
  createdAt: number;
  expiresAt: number;
}

export interface ServerCounts {
  users: number;
  deactivatedUsers: number;
  /** Devices with a live session. */
  signedInDevices: number;
  conversations: number;
  messages: number;
}

export interface Administration {
  /** Users by username; `query` matches part of the username or display name; `after` pages on. */
  listUsers(options: { query?: string; after?: string; limit: number }): Promise<UserAccount[]>;
  /** The first account created (the administrator unless ADMIN_USERS names others), or null. */
  firstUserId(): Promise<UserId | null>;
  /** When the user was deactivated, null when active or unknown. */
  deactivatedAt(userId: UserId): Promise<number | null>;
  /** Deactivates (`at`) or reactivates (null); false when the user does not exist or nothing changed. */
  setDeactivated(userId: UserId, at: number | null): Promise<boolean>;
  /** Stores a reset code for the user; earlier unused codes of that user stop working. */
  createPasswordReset(reset: PasswordResetRecord): Promise<void>;
  /** Uses a reset code once: the user it resets, or null when unknown, used or expired. */
  consumePasswordReset(codeHash: string, now: number): Promise<UserId | null>;
  counts(now: number): Promise<ServerCounts>;
}
