// The persistence of one Outpost deployment: five small interfaces, each with its own contract
// suite run against SQLite (the embedded default) and Postgres (many nodes).
import type { Accounts } from './Accounts.ts';
import type { Conversations } from './Conversations.ts';
import type { Files } from './Files.ts';
import type { Moderation } from './Moderation.ts';
import type { Privacy } from './Privacy.ts';
import type { Projection } from './Projection.ts';
import type { UpdateLog } from './UpdateLog.ts';

export interface Storage {
  readonly accounts: Accounts;
  readonly conversations: Conversations;
  readonly log: UpdateLog;
  readonly projection: Projection;
  readonly files: Files;
  readonly privacy: Privacy;
  readonly moderation: Moderation;
  /**
   * Makes rows deleted or overwritten so far unreadable in the database's files, as far as the
   * backend allows (deletion is real, docs/security.md): SQLite zeroes freed space as it goes
   * (`secure_delete`) and this truncates the write-ahead log; Postgres keeps dead row versions
   * until VACUUM reuses their space, so this asks for one on the tables that hold text.
   */
  scrub(): Promise<void>;
  /** Applies pending migrations. Idempotent; safe to call from several nodes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export type * from './Accounts.ts';
export type * from './Conversations.ts';
export type * from './Files.ts';
export type * from './Moderation.ts';
export type * from './Privacy.ts';
export type * from './Projection.ts';
export type * from './UpdateLog.ts';
