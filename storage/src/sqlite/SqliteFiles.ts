// Files on the embedded default: records in SQLite, bytes as files in a directory beside the
// database (DATA_DIR/files/ab/abcdef…), named by their SHA-256, written to a temporary name,
// fsynced and renamed, so a crash never leaves a half-written blob under a real key.
import { randomUUID } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UserId } from '@outpost/shared-schema';
import { isBlobKey, verifying } from '../blobKeys.ts';
import type { BlobReader, FileRecord, Files, NewFile } from '../Files.ts';
import { fileColumns, fileValues, toFile, type FileRow } from '../rows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

/** Blobs no file refers to, found in one statement. */
const UNREFERENCED = `SELECT key FROM blobs b WHERE stored_at < ?
  AND NOT EXISTS (SELECT 1 FROM files f WHERE f.original_key = b.key OR f.display_key = b.key OR f.thumb_key = b.key)`;

export class SqliteFiles implements Files {
  readonly #sql: SqliteDatabase;
  readonly #dir: () => Promise<string>;

  /** `dir` is where blobs live; null for an in-memory database (a temporary directory, removed by `close`). */
  constructor(sql: SqliteDatabase, dir: string | null) {
    this.#sql = sql;
    let made: Promise<string> | undefined;
    this.#dir = () => (made ??= dir ? mkdir(dir, { recursive: true }).then(() => dir) : mkdtemp(join(tmpdir(), 'outpost-blobs-')));
    this.close = async () => {
      if (!dir && made) await rm(await made, { recursive: true, force: true });
    };
  }

  /** Removes the temporary blob directory of an in-memory database. */
  readonly close: () => Promise<void>;

  async #path(key: string): Promise<string> {
    if (!isBlobKey(key)) throw new Error('not a blob key');
    return join(await this.#dir(), key.slice(0, 2), key);
  }

  async putBlob(key: string, source: () => AsyncIterable<Uint8Array>): Promise<void> {
    const path = await this.#path(key);
    const now = Date.now();
    if (this.#sql.get('SELECT 1 AS x FROM blobs WHERE key = ?', key) && (await exists(path))) {
      this.#sql.run('UPDATE blobs SET stored_at = ? WHERE key = ?', now, key);
      return;
    }
    const temporary = join(await this.#dir(), `tmp-${randomUUID()}`);
    const file = await open(temporary, 'wx');
    let size: number;
    try {
      const stream = verifying(key, source());
      for await (const chunk of stream.chunks) await file.write(chunk);
      size = stream.check();
      await file.sync();
    } catch (error) {
      await file.close();
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await file.close();
    await mkdir(join(await this.#dir(), key.slice(0, 2)), { recursive: true });
    await rename(temporary, path);
    this.#sql.run(
      'INSERT INTO blobs (key, size, stored_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET stored_at = excluded.stored_at',
      key, size, now,
    );
  }

  async readBlob(key: string): Promise<BlobReader | null> {
    if (!isBlobKey(key)) return null;
    const row = this.#sql.get<{ size: number }>('SELECT size FROM blobs WHERE key = ?', key);
    if (!row) return null;
    const path = await this.#path(key);
    if (!(await exists(path))) return null;
    return { size: row.size, chunks: createReadStream(path, { highWaterMark: 256 * 1024 }) };
  }

  async createFile(file: NewFile): Promise<{ created: boolean; file: FileRecord }> {
    const result = this.#sql.run(
      `INSERT INTO files (${fileColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ...fileValues(file),
    );
    const stored = await this.getFile(file.entry.id);
    if (!stored) throw new Error(`the file ${file.entry.id} was neither created nor found`);
    return { created: result.changes === 1, file: stored };
  }

  async getFile(id: string): Promise<FileRecord | null> {
    const row = this.#sql.get<FileRow>(`SELECT ${fileColumns} FROM files WHERE id = ?`, id);
    return row ? toFile(row) : null;
  }

  async usage(userId: UserId): Promise<number> {
    return this.#sql.get<{ n: number }>('SELECT coalesce(sum(size), 0) AS n FROM files WHERE uploader = ?', userId)?.n ?? 0;
  }

  async deleteUnattached(before: number): Promise<number> {
    return this.#sql.run('DELETE FROM files WHERE message_id IS NULL AND created_at < ?', before).changes;
  }

  async collectBlobs(before: number): Promise<number> {
    const dir = await this.#dir();
    // Rows and files go together in one synchronous transaction: no store in this process can
    // fall between them, and another process waits for the write lock.
    return this.#sql.immediate(() => {
      const found = this.#sql.all<{ key: string }>(UNREFERENCED, before).map((row) => row.key);
      for (const key of found) {
        this.#sql.run('DELETE FROM blobs WHERE key = ?', key);
        rmSync(join(dir, key.slice(0, 2), key), { force: true });
      }
      return found.length;
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
