// Files on Postgres: records and bytes in the database every node shares, so a file uploaded
// through one node is served by any other, backed up with the messages that carry it, and
// needs no other service. Bytes are chunks of 512 KiB, written and read one statement per chunk,
// so neither side ever holds a whole file in memory.
import type pg from 'pg';
import type { UserId } from '@outpost/shared-schema';
import { isBlobKey, verifying } from '../blobKeys.ts';
import type { BlobReader, FileRecord, Files, NewFile } from '../Files.ts';
import { fileColumns, fileValues, toFile, type FileRow } from '../rows.ts';
import { count, one } from './query.ts';
import { inTransaction } from './transaction.ts';

/** Bytes per stored chunk. */
const CHUNK = 512 * 1024;

export class PostgresFiles implements Files {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async putBlob(key: string, source: () => AsyncIterable<Uint8Array>): Promise<void> {
    if (!isBlobKey(key)) throw new Error('not a blob key');
    const now = Date.now();
    const touched = await this.#pool.query('UPDATE blobs SET stored_at = $2 WHERE key = $1', [key, now]);
    if (touched.rowCount === 1) return;
    const stream = verifying(key, source());
    let n = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // A chunk already there is overwritten: it may be left from a store that died before its
    // bytes were checked (two nodes storing the same blob at once write the same bytes).
    const flush = async () => {
      if (pendingBytes === 0) return;
      await this.#pool.query(
        `INSERT INTO blob_chunks (key, n, bytes, written_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key, n) DO UPDATE SET bytes = EXCLUDED.bytes, written_at = EXCLUDED.written_at`,
        [key, n, Buffer.concat(pending), now],
      );
      n += 1;
      pending = [];
      pendingBytes = 0;
    };
    for await (const chunk of stream.chunks) {
      let rest = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      while (rest.byteLength > 0) {
        const take = Math.min(CHUNK - pendingBytes, rest.byteLength);
        pending.push(Buffer.from(rest.subarray(0, take)));
        pendingBytes += take;
        rest = rest.subarray(take);
        if (pendingBytes === CHUNK) await flush();
      }
    }
    await flush();
    let size: number;
    try {
      size = stream.check();
    } catch (error) {
      // Not what the key says: drop the chunks unless a blob of that key exists meanwhile.
      await this.#pool.query('DELETE FROM blob_chunks c WHERE c.key = $1 AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.key = $1)', [key]);
      throw error;
    }
    await inTransaction(this.#pool, async (client) => {
      await client.query('DELETE FROM blob_chunks WHERE key = $1 AND n >= $2', [key, n]);
      await client.query('INSERT INTO blobs (key, size, stored_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET stored_at = EXCLUDED.stored_at', [key, size, now]);
    });
  }

  async readBlob(key: string): Promise<BlobReader | null> {
    if (!isBlobKey(key)) return null;
    const row = await one<{ size: number }>(this.#pool, 'SELECT size FROM blobs WHERE key = $1', [key]);
    if (!row) return null;
    const pool = this.#pool;
    const chunks = (async function* () {
      for (let n = 0, read = 0; read < row.size; n++) {
        const chunk = await one<{ bytes: Buffer }>(pool, 'SELECT bytes FROM blob_chunks WHERE key = $1 AND n = $2', [key, n]);
        if (!chunk) throw new Error(`blob ${key} lacks chunk ${n}`);
        read += chunk.bytes.byteLength;
        yield new Uint8Array(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
      }
    })();
    return { size: row.size, chunks };
  }

  async createFile(file: NewFile): Promise<{ created: boolean; file: FileRecord }> {
    const placeholders = fileColumns.split(',').map((_, i) => `$${i + 1}`).join(', ');
    const result = await this.#pool.query(`INSERT INTO files (${fileColumns}) VALUES (${placeholders}) ON CONFLICT (id) DO NOTHING`, fileValues(file));
    const stored = await this.getFile(file.entry.id);
    if (!stored) throw new Error(`the file ${file.entry.id} was neither created nor found`);
    return { created: result.rowCount === 1, file: stored };
  }

  async getFile(id: string): Promise<FileRecord | null> {
    const row = await one<FileRow>(this.#pool, `SELECT ${fileColumns} FROM files WHERE id = $1`, [id]);
    return row ? toFile(row) : null;
  }

  async usage(userId: UserId): Promise<number> {
    return count(this.#pool, 'SELECT coalesce(sum(size), 0)::bigint AS n FROM files WHERE uploader = $1', [userId]);
  }

  async deleteUnattached(before: number): Promise<number> {
    return (await this.#pool.query('DELETE FROM files WHERE message_id IS NULL AND created_at < $1', [before])).rowCount ?? 0;
  }

  async collectBlobs(before: number): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      // A blob whose row is gone takes its chunks with it; chunks left by a store that never
      // finished (a node died mid-upload) go once they are old.
      const { rows } = await client.query<{ key: string }>(
        `DELETE FROM blobs b WHERE stored_at < $1
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.original_key = b.key OR f.display_key = b.key OR f.thumb_key = b.key)
         RETURNING key`,
        [before],
      );
      const keys = rows.map((row) => row.key);
      if (keys.length > 0) await client.query('DELETE FROM blob_chunks WHERE key = ANY($1::text[])', [keys]);
      await client.query('DELETE FROM blob_chunks c WHERE written_at < $1 AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.key = c.key)', [before]);
      return keys.length;
    });
  }
}
