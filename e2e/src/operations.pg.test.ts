// Operating many nodes: /ready follows Postgres and Redis going away and coming back, and
// /metrics reports the Postgres pool and Redis. Real servers, stopped and restarted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '@outpost/storage/testing';
import type { OutpostServer } from '@outpost/sync-server';
import { createLogger, type Logger } from '@outpost/sync-server';
import { signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

const TOKEN = 'metrics-token-for-tests-0123456789';
let postgres: PostgresServer;
let redis: RedisServer;
let server: OutpostServer;
let dataDir: string;
/** What the node said at warn and info, in order. */
const said: string[] = [];
const quiet = createLogger('error');
const log: Logger = {
  ...quiet,
  warn: (msg, fields) => {
    said.push(msg);
    quiet.warn(msg, fields);
  },
  info: (msg, fields) => {
    said.push(msg);
    quiet.info(msg, fields);
  },
};

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-ops-'));
  server = await startNode({
    dataDir,
    databaseUrl: await postgres.createDatabase(),
    redisUrl: redis.url,
    // Short deadlines, so a stopped database is noticed within the test.
    env: { METRICS_TOKEN: TOKEN, DATABASE_CONNECT_TIMEOUT_MS: '1000', DATABASE_STATEMENT_TIMEOUT_MS: '2000' },
    log,
  });
});

afterAll(async () => {
  await teardown();
  await Promise.all([postgres?.stop(), redis?.stop()]);
  await rm(dataDir, { recursive: true, force: true });
});

async function ready(): Promise<{ status: number; body: { ready: boolean; reasons?: string[] } }> {
  const response = await fetch(`${server.url}/ready`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; reasons?: string[] } };
}

type Family = MetricFamily;
async function scrape(): Promise<Map<string, Family>> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return new Map((parsePrometheusTextFormat(await response.text())).map((family) => [family.name, family]));
}
const sample = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
  families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;

describe('a node on Postgres and Redis', () => {
  it('is ready, and reports its pool and Redis', async () => {
    expect(await ready()).toEqual({ status: 200, body: { ready: true } });
    const ada = await signUp(server.url, 'ada');
    const id = await ada.createGroup('ops', []);
    ada.conversation(id).send('hello');
    await until('numbered', () => history(ada.conversation(id))[0]?.seq === 1);
    const families = await scrape();
    expect(sample(families, 'outpost_redis_up')).toBe('1');
    // The pool holds the connections it just used; whether one is busy at the scrape's moment
    // (a background refresh, a compaction) is the node's business, not this test's.
    const pool = (state: string) => Number(sample(families, 'outpost_db_pool_connections', { state }));
    expect(pool('idle') + pool('in_use')).toBeGreaterThanOrEqual(1);
    expect(pool('waiting')).toBe(0);
  });

  it('turns not ready with the reason while Postgres is away, and ready again when it returns', async () => {
    // A member who writes has a role in use, which the node refreshes every 1.5 s.
    const bob = await signUp(server.url, 'bob');
    const group = await bob.createGroup('away', []);
    bob.conversation(group).send('before');
    await until('numbered', () => history(bob.conversation(group))[0]?.seq === 1);
    const failed = () => said.filter((msg) => msg.startsWith('refreshing roles failed')).length;
    await postgres.shutDown();
    // The first probe may still find a pooled connection that has not yet heard of the shutdown.
    let away = await ready();
    await until('not ready while Postgres is away', async () => (away = await ready()).status === 503, () => away);
    expect(away.body.ready).toBe(false);
    expect(away.body.reasons?.join('\n')).toMatch(/^database unreachable: /m);
    // Alive all the while: the process answers.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    // The refresh fails every 1.5 s while Postgres is away: said once.
    await until('the role refresh fails', () => failed() === 1, () => said);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(failed()).toBe(1);
    await postgres.restart();
    await until('ready again after Postgres returned', async () => (await ready()).status === 200, async () => await ready());
    await until('the role refresh works again, and says so', () => said.includes('refreshing roles works again'), () => said);
    expect(failed()).toBe(1);
  });

  it('turns not ready while Redis is away, and ready again when it returns', async () => {
    await redis.stop();
    let away = await ready();
    await until('not ready while Redis is away', async () => (away = await ready()).status === 503, () => away);
    expect(away.body.reasons?.join('\n')).toMatch(/^redis unreachable: /m);
    await until('metrics say redis is down', async () => sample(await scrape(), 'outpost_redis_up') === '0');
    await redis.restart();
    await until('ready again after Redis returned', async () => (await ready()).status === 200);
    await until('metrics say redis is up', async () => sample(await scrape(), 'outpost_redis_up') === '1');
  });

});
