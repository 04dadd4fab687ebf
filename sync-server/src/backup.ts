// Backing up and restoring a node: the database (SQLite online backup, or pg_dump), the files'
// bytes when they live beside SQLite, and the token signing key, into one directory with a
// manifest. A backup is taken while the node runs; a restore goes into a stopped node's empty
// data directory or database, and the node started on it serves the same history.
import { cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SQLITE_FILE, backupSqlite, dumpPostgres, openStorage, postgresIsEmpty, restorePostgres } from '@outpost/storage';
import type { Config } from './config.ts';

const MANIFEST = 'outpost-backup.json';
const SQLITE_COPY = SQLITE_FILE;
const POSTGRES_DUMP = 'outpost.pgdump';
const SIGNING_KEY = 'signing-key';
const FILES = 'files';

/** What a backup directory holds, written last: a directory without it is not a finished backup. */
export interface BackupManifest {
  format: 'outpost-backup';
  version: 1;
  storage: 'sqlite' | 'postgres';
  createdAt: string;
  /** Whether the signing key was copied (it was under DATA_DIR, not in OUTPOST_SIGNING_KEY). */
  signingKey: boolean;
}

export class BackupError extends Error {
  override name = 'BackupError';
}

async function isEmptyDirectory(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return true;
  return (await readdir(dir)).length === 0;
}

/** Backs up the node configured by `config` into `target` (a new or empty directory). */
export async function backupNode(config: Config, target: string): Promise<BackupManifest> {
  if (!(await isEmptyDirectory(target))) throw new BackupError(`${target} is not empty: back up into a new directory`);
  await mkdir(target, { recursive: true });
  const storage = config.databaseUrl ? 'postgres' : 'sqlite';
  if (storage === 'sqlite') {
    const file = path.join(config.dataDir, SQLITE_FILE);
    if (!existsSync(file)) throw new BackupError(`no database at ${file}: is DATA_DIR the node's?`);
    await backupSqlite(file, path.join(target, SQLITE_COPY));
    // After the database: files are content-addressed and written before their records, so every
    // file the copied database names is already there (later uploads may come along; harmless).
    const files = path.join(config.dataDir, FILES);
    if (existsSync(files)) await cp(files, path.join(target, FILES), { recursive: true });
  } else {
    await dumpPostgres(config.databaseUrl as string, path.join(target, POSTGRES_DUMP));
  }
  const key = path.join(config.dataDir, SIGNING_KEY);
  const signingKey = !config.signingKey && existsSync(key);
  if (signingKey) await cp(key, path.join(target, SIGNING_KEY));
  const manifest: BackupManifest = { format: 'outpost-backup', version: 1, storage, createdAt: new Date().toISOString(), signingKey };
  await writeFile(path.join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function readManifest(source: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(source, MANIFEST), 'utf8')) as BackupManifest;
  } catch (error) {
    throw new BackupError(`${source} is not a finished Outpost backup (${MANIFEST}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  if (manifest.format !== 'outpost-backup' || manifest.version !== 1) throw new BackupError(`${source} holds a backup this version cannot read`);
  return manifest;
}

/**
 * Restores the backup in `source` into the node configured by `config`, which must be stopped
 * and empty (a fresh DATA_DIR, or an empty Postgres database). Applies newer migrations after.
 */
export async function restoreNode(config: Config, source: string): Promise<BackupManifest> {
  const manifest = await readManifest(source);
  const storage = config.databaseUrl ? 'postgres' : 'sqlite';
  if (manifest.storage !== storage) {
    throw new BackupError(`this is a ${manifest.storage} backup and the node is configured for ${storage}: set DATABASE_URL ${manifest.storage === 'postgres' ? 'to the empty database' : 'to nothing'}`);
  }
  await mkdir(config.dataDir, { recursive: true });
  if (storage === 'sqlite') {
    const file = path.join(config.dataDir, SQLITE_FILE);
    if (existsSync(file)) throw new BackupError(`${file} exists: restore into an empty DATA_DIR (move the old one away first)`);
    await cp(path.join(source, SQLITE_COPY), file);
    if (existsSync(path.join(source, FILES))) await cp(path.join(source, FILES), path.join(config.dataDir, FILES), { recursive: true });
  } else {
    const url = config.databaseUrl as string;
    if (!(await postgresIsEmpty(url))) throw new BackupError('the database in DATABASE_URL already holds Outpost data: restore into an empty database');
    await restorePostgres(url, path.join(source, POSTGRES_DUMP));
  }
  const key = path.join(config.dataDir, SIGNING_KEY);
  if (manifest.signingKey && !config.signingKey && !existsSync(key)) await cp(path.join(source, SIGNING_KEY), key);
  // A backup from an older version gets this version's migrations now, not at first start.
  const opened = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, postgres: config.postgres });
  await opened.close();
  return manifest;
}

/** Bytes of a backup directory (for the command's report). */
export async function backupSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}
