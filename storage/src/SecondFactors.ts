// Two-factor sign-in: a user's TOTP secret (pending until a first code confirms it), the last
// time step accepted (so a code works once), and recovery codes stored as hashes, each usable once.
import type { UserId } from '@outpost/shared-schema';

export interface SecondFactorRecord {
  userId: UserId;
  /** Base32 TOTP secret. */
  secret: string;
  createdAt: number;
  /** Null while enrolment waits for its first code. */
  enabledAt: number | null;
  /** The highest TOTP time step accepted so far. */
  lastStep: number;
}

export interface SecondFactors {
  getSecondFactor(userId: UserId): Promise<SecondFactorRecord | null>;
  /** Starts enrolment with `secret`, replacing a pending one; false when a factor is already enabled. */
  beginSecondFactor(userId: UserId, secret: string, at: number): Promise<boolean>;
  /**
   * Enables the pending factor, accepting time step `step` and replacing the recovery codes with
   * `recoveryCodeHashes`, in one transaction; false when nothing is pending.
   */
  enableSecondFactor(userId: UserId, step: number, at: number, recoveryCodeHashes: readonly string[]): Promise<boolean>;
  /** Accepts time step `step` once: false when it (or a later one) was accepted already. */
  acceptStep(userId: UserId, step: number): Promise<boolean>;
  /** Uses a recovery code: true the first time, false if unknown or used. */
  useRecoveryCode(userId: UserId, codeHash: string, at: number): Promise<boolean>;
  recoveryCodesLeft(userId: UserId): Promise<number>;
  /** Removes the factor and its recovery codes; false when there was none. */
  removeSecondFactor(userId: UserId): Promise<boolean>;
}
