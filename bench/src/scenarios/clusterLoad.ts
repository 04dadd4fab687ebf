// Issue 10's two-node run: the same clients over one throwaway Postgres and one throwaway
// redis-server, first all on one node, then split over two nodes so that the members of every
// group sit on both, each at the same offered rate. It measures what a delivery to a member on
// another node adds (the append crosses Redis and the other node catches up from the log) and what
// Postgres and Redis carry per message; every message is then checked as in the single-server run
// (delivered once to every other member, numbered exactly 1..N, stored as acknowledged).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '@outpost/storage/testing';
import { BackendCounters, type BackendLoad } from '../load/backendCounters.ts';
import { checkRecords } from '../load/checkRecords.ts';
import { removeOnExit } from '../load/cleanup.ts';
import type { Records, StepResult } from '../load/commands.ts';
import { GeneratorPool } from '../load/GeneratorPool.ts';
import type { ClientPlan } from '../load/protocol.ts';
import { ServerKinds } from '../load/servers.ts';
import { ServerProcess } from '../load/ServerProcess.ts';
import type { LoadPlan } from './serverLoadPlan.ts';
import { Run, withDeadline, type PhaseSummary, type ServerResult } from './serverLoadRun.ts';

/** One configuration of the run: `nodes` Outpost nodes over the shared Postgres and Redis. */
export interface NodesResult {
  nodes: number;
  /** Why this configuration stopped early, or null. */
  failure: string | null;
  steady: PhaseSummary | null;
  /** What Postgres and Redis carried from the start of the steady phase until everything arrived. */
  load: BackendLoad | null;
  correctness: ServerResult['correctness'];
  notes: string[];
}

export interface ClusterResult {
  /** Why the run could not start (Postgres or Redis), or null. */
  failure: string | null;
  /** One node, then two. */
  runs: NodesResult[];
  /** The machine's load average (1, 5, 15 min) when the two-node run started and when it ended. */
  loadAverage: { start: string; end: string };
}

const kind = ServerKinds.outpost;
const verifyStorage = kind.setup.verifyStorage ?? (() => Promise.reject(new Error('Outpost has no storage check')));

/** Every client in a group, whole groups per generator; with two nodes, alternate members on each. */
function clientPlans(plan: LoadPlan, nodes: number, accounts: { userId: string; token: string }[], groupIds: string[]): ClientPlan[][] {
  const perGenerator: ClientPlan[][] = Array.from({ length: plan.generators }, () => []);
  for (let i = 0; i < plan.clients; i++) {
    const account = accounts[i];
    const g = Math.floor(i / plan.groupSize);
    if (!account) throw new Error(`no account for client ${i}`);
    const slot = i % plan.groupSize;
    perGenerator[g % plan.generators]?.push({ index: i, account, group: { id: groupIds[g] as string, size: plan.groupSize }, slot, node: slot % nodes });
  }
  return perGenerator;
}

async function runNodes(nodes: number, plan: LoadPlan, postgres: PostgresServer, redis: RedisServer, log: (line: string) => void): Promise<NodesResult> {
  const label = nodes === 1 ? 'one node' : `${nodes} nodes`;
  const result: NodesResult = { nodes, failure: null, steady: null, load: null, correctness: { checked: false, messages: 0, stored: null, problems: [] }, notes: [] };
  const databaseUrl = await postgres.createDatabase();
  await redis.flushAll();
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url, OUTPOST_SIGNING_KEY: randomBytes(32).toString('base64') };
  const dataDirs: string[] = [];
  const cleanups: { forget(): void }[] = [];
  const servers: ServerProcess[] = [];
  let pool: GeneratorPool | null = null;
  let counters: BackendCounters | null = null;
  let sending = false;
  try {
    for (let n = 0; n < nodes; n++) {
      const dir = await mkdtemp(path.join(tmpdir(), `outpost-bench-node${n}-`));
      dataDirs.push(dir);
      cleanups.push(removeOnExit(dir));
    }
    servers.push(await ServerProcess.start(kind, dataDirs[0] as string, plan, env));
    const groups = Array.from({ length: plan.clients / plan.groupSize }, (_, g) => Array.from({ length: plan.groupSize }, (_, s) => g * plan.groupSize + s));
    log(`${label}: ${plan.clients} accounts, ${groups.length} groups`);
    const setup = await withDeadline('setup', kind.setup.prepare(servers[0]?.url as string, plan.clients, groups), 120_000 + plan.clients * 200);
    for (let n = 1; n < nodes; n++) servers.push(await ServerProcess.start(kind, dataDirs[n] as string, plan, env));
    counters = await BackendCounters.open(databaseUrl, redis.url);

    const clients = clientPlans(plan, nodes, setup.accounts, setup.groupIds);
    pool = new GeneratorPool(plan.generators);
    await pool.call((g) => ({ type: 'init', server: 'outpost', urls: servers.map((s) => s.url), clients: clients[g] ?? [] }), 60_000);
    const run = new Run(plan, pool, servers, clients);
    log(`${label}: ${plan.clients} clients connect and join their group`);
    const connected = await pool.call<StepResult>(() => ({ type: 'connect' }), 60_000 + plan.clients * 50);
    const joined = await pool.call<StepResult>(() => ({ type: 'join' }), 60_000 + plan.clients * 50);
    for (const [what, results] of [['connect', connected], ['join their group', joined]] as const) {
      const failed = results.reduce((n, r) => n + r.failed, 0);
      if (failed > 0) throw new Error(`${failed} clients could not ${what}; first: ${results.find((r) => r.firstError)?.firstError}`);
    }

    log(`${label}: warm-up and steady phase at ${plan.cluster.rate} msg/s`);
    sending = true;
    const warmup = await run.phase(0, 'open', plan.cluster.rate, plan.cluster.warmupMs, plan.drainMs);
    if (warmup.caughtUpMs === null) throw new Error('overloaded: the warm-up backlog never drained');
    const before = await counters.read();
    result.steady = await run.phase(1, 'open', plan.cluster.rate, plan.cluster.steadyMs, plan.drainMs);
    result.load = BackendCounters.between(before, await counters.read());
    if (result.steady.caughtUpMs === null) throw new Error('overloaded: the steady phase backlog never drained');
    if (result.steady.drainedMs === null) result.notes.push(`the backlog drained ${(result.steady.caughtUpMs / 1000).toFixed(0)} s after sending stopped`);
    return result;
  } catch (error) {
    result.failure = (error as Error).message;
    return result;
  } finally {
    await counters?.close();
    if (pool) {
      if (sending) {
        const final = await pool.call<Records>(() => ({ type: 'records' }), 60_000).catch((error: unknown) => {
          result.correctness.problems.push(`could not collect the generators' records: ${(error as Error).message}`);
          return null;
        });
        await pool.close();
        for (const server of servers) if (!(await server.stop(60_000))) result.notes.push('a node did not stop within 60 s of SIGTERM and was killed');
        if (final) {
          const checked = checkRecords(final, true);
          result.correctness = { checked: true, messages: checked.messages, stored: null, problems: checked.problems };
          const refusals = final.reduce((n, r) => n + r.refusals, 0);
          if (refusals) result.notes.push(`${refusals} refusals, first: ${final.flatMap((r) => r.firstRefusals).slice(0, 3).join(' | ')}`);
          const groups = final.flatMap((r) => r.groups).map((g) => ({ id: g.id, messages: g.messages.map((m) => ({ id: m.id, seq: m.seq })) }));
          try {
            const storage = await verifyStorage({ dataDir: dataDirs[0] as string, databaseUrl }, groups);
            result.correctness.stored = storage.agreeing;
            result.correctness.problems.push(...storage.problems);
          } catch (error) {
            result.correctness.problems.push(`storage check failed: ${(error as Error).message}`);
          }
        }
      } else {
        await pool.close();
      }
    }
    for (const server of servers) if (!(await server.stop(10_000))) result.notes.push('a node was killed at the end');
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    for (const cleanup of cleanups) cleanup.forget();
    log(`${label}: done`);
  }
}

/** One node, then two, over one throwaway Postgres (with pg_stat_statements) and one redis-server. */
export async function runClusterLoad(plan: LoadPlan, print: (line: string) => void): Promise<ClusterResult> {
  const started = performance.now();
  const log = (line: string) => print(`${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s  Outpost over Postgres and Redis, ${line}`);
  const loadAverage = () => os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const result: ClusterResult = { failure: null, runs: [], loadAverage: { start: loadAverage(), end: '' } };
  let postgres: PostgresServer | null = null;
  let redis: RedisServer | null = null;
  try {
    postgres = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_utility': 'on' } });
    redis = await startRedis();
    for (const nodes of [1, 2]) result.runs.push(await runNodes(nodes, plan, postgres, redis, log));
  } catch (error) {
    result.failure = (error as Error).message;
  } finally {
    await redis?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    result.loadAverage.end = loadAverage();
  }
  return result;
}

/** True when both configurations ran to the end and every message checked out. */
export function clusterSucceeded(result: ClusterResult): boolean {
  return !result.failure && result.runs.length === 2 && result.runs.every((r) => !r.failure && r.correctness.checked && r.correctness.problems.length === 0);
}
