// The throwaway Postgres server itself: it can go away and come back as the same server, with
// its data, on its port, so tests can take Postgres down under a running node.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from './postgresServer.ts';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server.stop();
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a throwaway Postgres server', () => {
  it('shuts down and restarts as the same server: same URL, same data', async () => {
    const url = server.url;
    await query(url, 'CREATE TABLE kept (n int)');
    await query(url, 'INSERT INTO kept VALUES (1)');

    await server.shutDown();
    await expect(query(url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);

    await server.restart();
    expect(server.url).toBe(url);
    expect(await query(url, 'SELECT n FROM kept')).toEqual([{ n: 1 }]);
  });

  it('comes back with its committed data after kill -9', async () => {
    await query(server.url, 'CREATE TABLE crashed (n int)');
    await query(server.url, 'INSERT INTO crashed VALUES (2)');

    await server.kill();
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);

    await server.restart();
    expect(await query(server.url, 'SELECT n FROM crashed')).toEqual([{ n: 2 }]);
  });
});
