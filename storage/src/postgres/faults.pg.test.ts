// Postgres storage under real faults: a silent network (a stalled TCP proxy), a database that goes
// away and comes back, connections reset mid-query. Every call must end — in an answer or an
// error — and the same storage object must work again once the fault is gone.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStorage } from '../openStorage.ts';
import type { Storage } from '../Storage.ts';
import { startPostgres, type PostgresServer } from '../testing/postgresServer.ts';
import { startTcpProxy, type TcpProxy } from '../testing/tcpProxy.ts';
import { createPool } from './pool.ts';

let server: PostgresServer;
let proxy: TcpProxy;

beforeAll(async () => {
  server = await startPostgres();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
});

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

/** Short deadlines, so a stalled call fails in about a second instead of the production 35 s. */
const timeouts = { connectTimeoutMs: 1_000, statementTimeoutMs: 500, queryTimeoutMs: 1_000 };

let storage: Storage;
/** Idle connections the pool lost and reported (instead of crashing the process). */
let lostIdle: Error[];

beforeEach(async () => {
  lostIdle = [];
  storage = await openStorage({
    databaseUrl: proxy.urlThrough(await server.createDatabase()),
    dataDir: '/nonexistent/unused',
    postgres: { ...timeouts, onIdleError: (error) => lostIdle.push(error) },
  });
});

afterEach(async () => {
  proxy.resume();
  proxy.accept();
  await storage.close();
});

const update = (n: number): Uint8Array => new Uint8Array([n]);

/** Appends one entry at the document's next version (read first, as a node that caught up would). */
async function append(n: number): Promise<void> {
  const { version } = await storage.log.load('doc');
  const [outcome] = await storage.log.commit([{ doc: 'doc', base: version, entry: update(n) }], Date.now());
  if (!outcome?.ok) throw new Error(`append ${n} was refused: ${JSON.stringify(outcome)}`);
}

/** The entries after the base, as bytes. */
async function entries(): Promise<Uint8Array[]> {
  return (await storage.log.load('doc')).entries.map((entry) => entry.update);
}

describe('Postgres storage behind a stalled network', () => {
  it('fails a call with a timeout instead of hanging, and works again after resume', async () => {
    await append(1);

    proxy.stall();
    await expect(storage.log.load('doc')).rejects.toThrow(/timeout/i);
    await expect(append(2)).rejects.toThrow(/timeout/i);
    proxy.resume();

    // The read timed out on the wire and dropped its connection; the append then timed out
    // opening a new one, so it never left the process.
    expect(await entries()).toEqual([update(1)]);
    await append(3);
    expect(await entries()).toEqual([update(1), update(3)]);
  });
});

describe('Postgres storage while the database restarts', () => {
  it('fails calls while Postgres is down and serves them again once it is back', async () => {
    await append(1);

    await server.shutDown();
    await expect(storage.log.load('doc')).rejects.toThrow();
    await expect(append(2)).rejects.toThrow();

    await server.restart();
    await append(3);
    expect(await entries()).toEqual([update(1), update(3)]);
    // The shutdown really dropped the idle connection, and the process lived through it.
    expect(lostIdle.length).toBeGreaterThan(0);
  });
});

describe('Postgres storage when its connections are cut', () => {
  it('fails the calls in flight, keeps what was acknowledged, and serves the next calls', async () => {
    await append(1);

    // Hold five calls on the wire (one on the idle connection, four opening new ones) and reset
    // every connection under them.
    proxy.stall();
    const inFlight = [2, 3, 4, 5].map((n) => append(n));
    inFlight.push(storage.log.load('doc').then(() => undefined));
    while (proxy.liveConnections < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    proxy.cut();
    proxy.resume();
    const outcomes = await Promise.allSettled(inFlight);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(5).fill('rejected'));

    await append(6);
    expect(await entries()).toEqual([update(1), update(6)]);
  });

  it('survives a reset of a connection that is inside a transaction', async () => {
    await append(1);
    await append(2);

    // compact() runs its statements on a connection it checks out of the pool (the idle one):
    // its BEGIN is written before the reset can be read, so the reset hits it checked out.
    proxy.stall();
    const compaction = storage.log.compact('doc', (parts) => new Uint8Array(parts.flatMap((part) => [...part])));
    proxy.cut();
    proxy.resume();
    await expect(compaction).rejects.toThrow();

    await storage.log.compact('doc', (parts) => new Uint8Array(parts.flatMap((part) => [...part])));
    const stored = await storage.log.load('doc');
    expect([...(stored.base ?? [])]).toEqual([1, 2]);
  });
});

describe('the deadlines a pool sets', () => {
  it('reach Postgres, which cancels a statement that runs too long', async () => {
    const pool = createPool(await server.createDatabase(), { ...timeouts, idleInTransactionTimeoutMs: 2_000 });
    try {
      const { rows } = await pool.query<{ statement: string; idle: string }>(
        "SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle",
      );
      expect(rows).toEqual([{ statement: '500ms', idle: '2s' }]);
      await expect(pool.query('SELECT pg_sleep(30)')).rejects.toThrow(/statement timeout/);
    } finally {
      await pool.end();
    }
  });
});
