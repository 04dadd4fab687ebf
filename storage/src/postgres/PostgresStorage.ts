// Storage on Postgres, for many stateless nodes sharing one database. Correctness across nodes
// comes from row locks (commits, token rotation) and an advisory lock (migrations), never from
// a node's memory.
import type pg from 'pg';
import { pendingMigrations } from '../migrations/Migration.ts';
import { postgresMigrations, postgresMigrationsTable } from '../migrations/postgres.ts';
import type { PoolStats, Storage, StorageStatus } from '../Storage.ts';
import { PostgresAccounts } from './PostgresAccounts.ts';
import { PostgresAdministration } from './PostgresAdministration.ts';
import { PostgresAuditLog } from './PostgresAuditLog.ts';
import { PostgresDevices } from './PostgresDevices.ts';
import { PostgresSecondFactors } from './PostgresSecondFactors.ts';
import { PostgresConversations } from './PostgresConversations.ts';
import { PostgresFiles } from './PostgresFiles.ts';
import { PostgresModeration } from './PostgresModeration.ts';
import { PostgresPrivacy } from './PostgresPrivacy.ts';
import { PostgresProjection } from './PostgresProjection.ts';
import { PostgresSearch } from './PostgresSearch.ts';
import { PostgresUpdateLog } from './PostgresUpdateLog.ts';
import { createPool, type PoolOptions } from './pool.ts';
import { inTransaction } from './transaction.ts';

/** Advisory lock key (two-key form, with 0) that serialises migrations across nodes. */
const MIGRATION_LOCK = 0x6f75_0001;

/**
 * Storage on a Postgres database through a pg connection pool. Several instances (nodes) may
 * share one database; every documented guarantee holds across them.
 *
 * @example
 * const storage = new PostgresStorage('postgres://outpost@db/outpost');
 * await storage.migrate();
 */
export class PostgresStorage implements Storage {
  readonly accounts: PostgresAccounts;
  readonly conversations: PostgresConversations;
  readonly log: PostgresUpdateLog;
  readonly projection: PostgresProjection;
  readonly files: PostgresFiles;
  readonly privacy: PostgresPrivacy;
  readonly moderation: PostgresModeration;
  readonly audit: PostgresAuditLog;
  readonly search: PostgresSearch;
  readonly administration: PostgresAdministration;
  readonly devices: PostgresDevices;
  readonly secondFactors: PostgresSecondFactors;
  readonly #pool: pg.Pool;

  /** `searchSliceAbove`: see PostgresSearch (tests lower it to exercise reading by weeks). */
  constructor(connectionString: string, options: PoolOptions & { searchSliceAbove?: number } = {}) {
    this.#pool = createPool(connectionString, options);
    this.accounts = new PostgresAccounts(this.#pool);
    this.audit = new PostgresAuditLog(this.#pool);
    this.administration = new PostgresAdministration(this.#pool);
    this.devices = new PostgresDevices(this.#pool);
    this.secondFactors = new PostgresSecondFactors(this.#pool);
    this.conversations = new PostgresConversations(this.#pool);
    this.log = new PostgresUpdateLog(this.#pool);
    this.projection = new PostgresProjection(this.#pool);
    this.privacy = new PostgresPrivacy(this.#pool);
    this.moderation = new PostgresModeration(this.#pool);
    this.files = new PostgresFiles(this.#pool);
    this.search = new PostgresSearch(this.#pool, options.searchSliceAbove);
  }

  async migrate(): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK}, 0)`);
      await client.query(postgresMigrationsTable);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((row) => row.version));
      for (const migration of pendingMigrations(postgresMigrations, applied)) {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
      }
    });
  }

  async scrub(): Promise<void> {
    // Deleted and overwritten rows stay in the table files as dead versions until VACUUM reclaims
    // them (their bytes are reused later, not zeroed: docs/security.md says what that means).
    // SKIP_LOCKED: a VACUUM already running elsewhere does the same work.
    await this.#pool.query('VACUUM (SKIP_LOCKED) doc_log, doc_bases, messages');
  }

  async status(): Promise<StorageStatus> {
    const table = await this.#pool.query<{ name: string | null }>("SELECT to_regclass('schema_migrations')::text AS name");
    const { rows } = table.rows[0]?.name ? await this.#pool.query<{ version: number }>('SELECT version FROM schema_migrations') : { rows: [] };
    const applied = new Set(rows.map((row) => row.version));
    return { pendingMigrations: pendingMigrations(postgresMigrations, applied).map((migration) => migration.version) };
  }

  poolStats(): PoolStats {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting: this.#pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
