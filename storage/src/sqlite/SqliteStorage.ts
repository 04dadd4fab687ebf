// The embedded default: Storage on one SQLite file (better-sqlite3). Every write that reads
// before it writes runs in a BEGIN IMMEDIATE transaction, so several instances on the same
// file (or several processes) still number messages without gaps.
import { dirname, join } from 'node:path';
import { pendingMigrations } from '../migrations/Migration.ts';
import { sqliteMigrations, sqliteMigrationsTable } from '../migrations/sqlite.ts';
import type { Storage, StorageStatus } from '../Storage.ts';
import { SqliteAccounts } from './SqliteAccounts.ts';
import { SqliteAdministration } from './SqliteAdministration.ts';
import { SqliteAuditLog } from './SqliteAuditLog.ts';
import { SqliteDevices } from './SqliteDevices.ts';
import { SqliteSecondFactors } from './SqliteSecondFactors.ts';
import { SqliteConversations } from './SqliteConversations.ts';
import { SqliteDatabase } from './SqliteDatabase.ts';
import { SqliteFiles } from './SqliteFiles.ts';
import { SqliteModeration } from './SqliteModeration.ts';
import { SqlitePrivacy } from './SqlitePrivacy.ts';
import { SqliteProjection } from './SqliteProjection.ts';
import { SqliteSearch } from './SqliteSearch.ts';
import { SqliteUpdateLog } from './SqliteUpdateLog.ts';

/**
 * Storage on a SQLite file: WAL journal, `synchronous=FULL` (an acknowledged append survives
 * `kill -9` and power loss), foreign keys on.
 *
 * @example
 * const storage = new SqliteStorage('/var/lib/outpost/outpost.db');
 * await storage.migrate();
 */
export class SqliteStorage implements Storage {
  readonly accounts: SqliteAccounts;
  readonly conversations: SqliteConversations;
  readonly log: SqliteUpdateLog;
  readonly projection: SqliteProjection;
  readonly files: SqliteFiles;
  readonly privacy: SqlitePrivacy;
  readonly moderation: SqliteModeration;
  readonly audit: SqliteAuditLog;
  readonly search: SqliteSearch;
  readonly administration: SqliteAdministration;
  readonly devices: SqliteDevices;
  readonly secondFactors: SqliteSecondFactors;
  readonly #sql: SqliteDatabase;

  /**
   * Opens (or creates) the database file; `':memory:'` gives a private in-memory database.
   * Attached files' bytes live in `files/` beside the database file (for an in-memory database,
   * in a temporary directory removed on close). `searchScopedBelowShare`: see SqliteSearch (tests
   * raise it so every search names the user's conversations to the index).
   */
  constructor(filename: string, options: { searchScopedBelowShare?: number } = {}) {
    this.#sql = new SqliteDatabase(filename);
    this.files = new SqliteFiles(this.#sql, filename === ':memory:' ? null : join(dirname(filename), 'files'));
    this.accounts = new SqliteAccounts(this.#sql);
    this.audit = new SqliteAuditLog(this.#sql);
    this.administration = new SqliteAdministration(this.#sql);
    this.devices = new SqliteDevices(this.#sql);
    this.secondFactors = new SqliteSecondFactors(this.#sql);
    this.conversations = new SqliteConversations(this.#sql);
    this.log = new SqliteUpdateLog(this.#sql);
    this.projection = new SqliteProjection(this.#sql);
    this.privacy = new SqlitePrivacy(this.#sql);
    this.moderation = new SqliteModeration(this.#sql);
    this.search = new SqliteSearch(this.#sql, options.searchScopedBelowShare);
  }

  async migrate(): Promise<void> {
    this.#sql.db.exec(sqliteMigrationsTable);
    this.#sql.immediate(() => {
      const applied = new Set(this.#sql.all<{ version: number }>('SELECT version FROM schema_migrations').map((row) => row.version));
      for (const migration of pendingMigrations(sqliteMigrations, applied)) {
        this.#sql.db.exec(migration.sql);
        this.#sql.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', migration.version, Date.now());
      }
    });
  }

  async scrub(): Promise<void> {
    // Freed pages and cells are zeroed already (secure_delete); the WAL still holds the pages as
    // they were before the deletion until it is checkpointed and truncated.
    this.#sql.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async status(): Promise<StorageStatus> {
    const table = this.#sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    const rows = table.length > 0 ? this.#sql.all<{ version: number }>('SELECT version FROM schema_migrations') : [];
    const applied = new Set(rows.map((row) => row.version));
    return { pendingMigrations: pendingMigrations(sqliteMigrations, applied).map((migration) => migration.version) };
  }

  poolStats(): null {
    return null;
  }

  async close(): Promise<void> {
    this.#sql.close();
    await this.files.close();
  }
}
