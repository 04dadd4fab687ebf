// The persistence of one Outpost deployment: small interfaces, each with its own contract
// suite run against SQLite (the embedded default) and Postgres (many nodes).
import type { Accounts } from './Accounts.ts';
import type { Administration } from './Administration.ts';
import type { AuditLog } from './AuditLog.ts';
import type { Conversations } from './Conversations.ts';
import type { Devices } from './Devices.ts';
import type { Files } from './Files.ts';
import type { Moderation } from './Moderation.ts';
import type { Privacy } from './Privacy.ts';
import type { Projection } from './Projection.ts';
import type { Search } from './Search.ts';
import type { SecondFactors } from './SecondFactors.ts';
import type { UpdateLog } from './UpdateLog.ts';

export interface Storage {
  readonly accounts: Accounts;
  readonly conversations: Conversations;
  readonly log: UpdateLog;
  readonly projection: Projection;
  readonly files: Files;
  /** The devices users are signed in on. */
  readonly devices: Devices;
  /** Two-factor sign-in secrets and recovery codes. */
  readonly secondFactors: SecondFactors;
  /** Users as the server administrator sees them: deactivation, password resets, counts. */
  readonly administration: Administration;
  /** Security-relevant events, append-only. */
  readonly audit: AuditLog;
  readonly privacy: Privacy;
  readonly moderation: Moderation;
  /**
   * Makes rows deleted or overwritten so far unreadable in the database's files, as far as the
   * backend allows (deletion is real, docs/security.md): SQLite zeroes freed space as it goes
   * (`secure_delete`) and this truncates the write-ahead log; Postgres keeps dead row versions
   * until VACUUM reuses their space, so this asks for one on the tables that hold text.
   */
  scrub(): Promise<void>;
  readonly search: Search;
  /** Applies pending migrations. Idempotent; safe to call from several nodes at once. */
  migrate(): Promise<void>;
  /**
   * Whether the database answers now and which known migrations it lacks, for readiness probes.
   * Rejects when the database cannot be reached (within the pool's deadlines).
   */
  status(): Promise<StorageStatus>;
  /** Connections of the Postgres pool (open, idle, callers waiting for one); null on SQLite. */
  poolStats(): PoolStats | null;
  close(): Promise<void>;
}

/** What {@link Storage.status} reports. */
export interface StorageStatus {
  /** Versions of migrations this code knows and the database has not applied. */
  pendingMigrations: number[];
}

/** A connection pool's state, for metrics. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export type * from './Accounts.ts';
export type * from './Administration.ts';
export type * from './AuditLog.ts';
export type * from './Conversations.ts';
export type * from './Devices.ts';
export type * from './Files.ts';
export type * from './Moderation.ts';
export type * from './Privacy.ts';
export type * from './Projection.ts';
export type * from './Search.ts';
export type * from './SecondFactors.ts';
export type * from './UpdateLog.ts';
