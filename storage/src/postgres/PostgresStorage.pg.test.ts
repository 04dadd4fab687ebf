// Runs the storage contract on a real, throwaway Postgres server: every test gets a new empty
// schema on it, and "another node" is a second PostgresStorage with its own pool.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../openStorage.ts';
import { startPostgres, type PostgresServer } from '../testing/postgresServer.ts';
import { storageContract } from '../testing/storageContract.ts';
import { PostgresStorage } from './PostgresStorage.ts';
import { APPEND_UPDATE_SQL } from './updateLog.ts';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server.stop();
});

let schemas = 0;

/**
 * A URL whose connections see only a new, empty schema: as good as a fresh database for the
 * storage (which names no schema), and ten times faster to make than CREATE DATABASE.
 */
async function freshSchema(): Promise<string> {
  schemas += 1;
  const schema = `contract_${schemas}`;
  const admin = new pg.Client(server.url);
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

storageContract('Postgres', async () => {
  const url = await freshSchema();
  return {
    storage: new PostgresStorage(url),
    second: async () => new PostgresStorage(url),
    // The whole server, with every schema, is deleted in afterAll.
    cleanup: async () => undefined,
  };
});

describe('openStorage with a Postgres URL', () => {
  it('opens Postgres, migrated, and reads back BIGINT times as numbers', async () => {
    const storage = await openStorage({ databaseUrl: await server.createDatabase(), dataDir: '/nonexistent/unused' });
    try {
      expect(storage).toBeInstanceOf(PostgresStorage);
      const positions = [await storage.appendUpdate('doc', new Uint8Array([1])), await storage.appendUpdate('doc', new Uint8Array([2]))];
      expect(positions.map((position) => typeof position)).toEqual(['number', 'number']);
      expect((await storage.loadDocument('doc')).position).toBe(positions[1]);
    } finally {
      await storage.close();
    }
  });
});

describe('a Postgres server that crashes', () => {
  it('keeps every acknowledged append across kill -9 and restart', async () => {
    // The crash drops the pool's idle connections; that is expected here, not worth a warning.
    const dropped: Error[] = [];
    const storage = new PostgresStorage(await server.createDatabase(), { onIdleError: (error) => dropped.push(error) });
    await storage.migrate();
    const updates = Array.from({ length: 20 }, (_, index) => new Uint8Array([index]));
    try {
      for (const update of updates) await storage.appendUpdate('doc', update);
      await server.kill();
      await expect(storage.countUpdates('doc')).rejects.toThrow();
      await server.restart();
      expect((await storage.loadDocument('doc')).updates).toEqual(updates);
    } finally {
      await storage.close();
    }
  });
});

describe('compaction next to an append still in flight', () => {
  it('waits for an append that drew a lower position but has not committed yet', async () => {
    const url = await freshSchema();
    const storage = new PostgresStorage(url);
    await storage.migrate();
    const slow = new pg.Client(url);
    await slow.connect();
    try {
      // A node appends and stalls before COMMIT; another node's later append commits first.
      await slow.query('BEGIN');
      const { rows } = await slow.query<{ position: string }>(APPEND_UPDATE_SQL, ['doc', Buffer.from([1])]);
      const fast = await storage.appendUpdate('doc', new Uint8Array([2]));
      expect(Number(rows[0]?.position)).toBeLessThan(fast);

      const compaction = storage.compact('doc', (parts) => Buffer.concat(parts));
      // Either compaction finishes on its own (and then must not have trimmed the stalled entry
      // away), or it waits for the stalled append, which is what it should do.
      let settled = false;
      const waiting = (async () => {
        while (!settled) {
          const { rows: waiters } = await slow.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
          );
          if (Number(waiters[0]?.n) > 0) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      await Promise.race([compaction, waiting]);
      settled = true;
      await waiting;
      await slow.query('COMMIT');
      await compaction;

      const stored = await storage.loadDocument('doc');
      const bytes = [...(stored.snapshot ?? []), ...stored.updates.flatMap((update) => [...update])];
      expect(bytes.sort()).toEqual([1, 2]);
    } finally {
      await slow.end();
      await storage.close();
    }
  });
});
