// Where a deleted text could still be: the bytes of a SQLite database (file and WAL), every row
// of a Postgres database, and every record of a device's IndexedDB replica. The erasure tests
// search them all for the text and expect to find nothing.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { SQLITE_FILE } from '@outpost/storage';
import { replicaName, type IndexedDbFactory } from '@outpost/client';

/** The needles a text leaves as bytes: UTF-8 as is, and hex (how Postgres prints bytea). */
function needles(text: string): { raw: Buffer; hex: string } {
  const raw = Buffer.from(text, 'utf8');
  return { raw, hex: raw.toString('hex') };
}

/** Files of the SQLite database under `dataDir` that hold `text`. */
export async function sqliteFilesHolding(dataDir: string, text: string): Promise<string[]> {
  const { raw } = needles(text);
  const found: string[] = [];
  for (const suffix of ['', '-wal', '-journal']) {
    const file = path.join(dataDir, SQLITE_FILE + suffix);
    if (existsSync(file) && (await readFile(file)).includes(raw)) found.push(path.basename(file));
  }
  return found;
}

/** Tables of the Postgres database whose rows (any column, bytea included) hold `text`. */
export async function postgresTablesHolding(databaseUrl: string, text: string): Promise<string[]> {
  const { raw, hex } = needles(text);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    const found: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      if (rows.rows.some(({ row }) => row.includes(raw.toString('utf8')) || row.includes(hex))) found.push(name);
    }
    return found;
  } finally {
    await client.end();
  }
}

/** Every byte string and string a value holds, however deep (records, arrays, typed arrays, blobs). */
async function chunksOf(value: unknown, out: Buffer[]): Promise<void> {
  if (value === null || value === undefined) return;
  if (typeof value === 'string') out.push(Buffer.from(value, 'utf8'));
  else if (value instanceof Uint8Array) out.push(Buffer.from(value));
  else if (value instanceof ArrayBuffer) out.push(Buffer.from(value));
  else if (typeof Blob !== 'undefined' && value instanceof Blob) out.push(Buffer.from(await value.arrayBuffer()));
  else if (Array.isArray(value)) for (const item of value) await chunksOf(item, out);
  else if (typeof value === 'object') for (const item of Object.values(value)) await chunksOf(item, out);
}

/** Object stores of a user's IndexedDB replica whose records hold `text`. */
export async function replicaStoresHolding(factory: IndexedDbFactory, userId: string, text: string): Promise<string[]> {
  const { raw } = needles(text);
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = factory.indexedDB.open(replicaName(userId));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('cannot open the replica'));
  });
  try {
    const found: string[] = [];
    for (const store of [...db.objectStoreNames]) {
      const records = await new Promise<unknown[]>((resolve, reject) => {
        const request = db.transaction(store, 'readonly').objectStore(store).getAll();
        request.onsuccess = () => resolve(request.result as unknown[]);
        request.onerror = () => reject(request.error ?? new Error(`cannot read ${store}`));
      });
      const chunks: Buffer[] = [];
      await chunksOf(records, chunks);
      if (chunks.some((chunk) => chunk.includes(raw))) found.push(store);
    }
    return found;
  } finally {
    db.close();
  }
}
