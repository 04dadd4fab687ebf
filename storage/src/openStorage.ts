// Picks the storage a deployment asked for: Postgres when given a postgres:// URL (many nodes),
// otherwise the embedded SQLite file under the data directory (one node, nothing else to run).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PoolOptions } from './postgres/pool.ts';
import { PostgresStorage } from './postgres/PostgresStorage.ts';
import { SqliteStorage } from './sqlite/SqliteStorage.ts';
import type { Storage } from './Storage.ts';

/** Where {@link openStorage} keeps data. */
export interface StorageOptions {
  /** A `postgres://` or `postgresql://` URL; when absent, SQLite is used. */
  databaseUrl?: string;
  /** Directory of the SQLite file `outpost.db`; created when missing. */
  dataDir: string;
  /** Pool size, timeouts and the handler of lost idle connections, for Postgres only. */
  postgres?: PoolOptions;
}

/** The file name of the SQLite database inside `dataDir`. */
export const SQLITE_FILE = 'outpost.db';

/**
 * Opens the configured storage and applies pending migrations before returning it. A
 * `databaseUrl` that is set but not a Postgres URL is refused rather than ignored.
 *
 * @example
 * const storage = await openStorage({ databaseUrl: process.env.DATABASE_URL, dataDir: './data' });
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const storage = await open(options);
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}

async function open({ databaseUrl, dataDir, postgres }: StorageOptions): Promise<Storage> {
  if (databaseUrl !== undefined && /^postgres(ql)?:\/\//.test(databaseUrl)) {
    return new PostgresStorage(databaseUrl, postgres);
  }
  if (databaseUrl !== undefined && databaseUrl !== '') {
    throw new Error(`databaseUrl must be a postgres:// or postgresql:// URL, got ${databaseUrl.split(':')[0]}:…`);
  }
  await mkdir(dataDir, { recursive: true });
  return new SqliteStorage(join(dataDir, SQLITE_FILE));
}
