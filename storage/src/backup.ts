// Copies of a live database, taken without stopping the node: SQLite's online backup API on its
// own connection (a consistent snapshot while the node keeps writing through WAL), and pg_dump /
// pg_restore for Postgres (one snapshot transaction; restore into an empty database).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';

const run = promisify(execFile);

/**
 * Writes a consistent copy of the SQLite database `file` to `target` while other connections
 * (the running node) keep reading and writing it. Each step copies every page, so a write
 * between steps cannot make the copy start over for ever.
 */
export async function backupSqlite(file: string, target: string): Promise<{ pages: number }> {
  if (!existsSync(file)) throw new Error(`no SQLite database at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    const { totalPages } = await db.backup(target, { progress: ({ totalPages: pages }) => Math.max(pages, 100) });
    return { pages: totalPages };
  } finally {
    db.close();
  }
}

/**
 * A Postgres client program (pg_dump, pg_restore): `PG_BIN` when set, else the newest
 * /usr/lib/postgresql/<version>/bin that has it, else the PATH.
 */
export function postgresProgram(name: 'pg_dump' | 'pg_restore'): string {
  if (process.env.PG_BIN) return path.join(process.env.PG_BIN, name);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((version) => existsSync(path.join(root, version, 'bin', name)))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin', name);
  }
  return name;
}

async function runProgram(program: string, args: string[]): Promise<void> {
  try {
    await run(program, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new Error(`${program} was not found: install the Postgres client tools or set PG_BIN to their directory`, { cause: error });
    throw new Error(`${path.basename(program)} failed: ${(failure.stderr ?? failure.message).trim()}`, { cause: error });
  }
}

/** pg_dump in the custom format (compressed, restorable with pg_restore) of the database at `url`. */
export async function dumpPostgres(url: string, target: string): Promise<void> {
  await runProgram(postgresProgram('pg_dump'), ['--format=custom', '--no-owner', '--no-privileges', `--file=${target}`, `--dbname=${url}`]);
}

/** True when the database at `url` has no Outpost tables yet (a fresh database to restore into). */
export async function postgresIsEmpty(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string | null }>("SELECT to_regclass('schema_migrations')::text AS name");
    return !rows[0]?.name;
  } finally {
    await client.end();
  }
}

/** Restores a {@link dumpPostgres} file into the (empty) database at `url`, all or nothing. */
export async function restorePostgres(url: string, source: string): Promise<void> {
  await runProgram(postgresProgram('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${url}`, source]);
}
