// Issue 10's two-node run: the same clients over one throwaway Postgres and one throwaway
// redis-server, first all on one node, then split over that node and a second one so that the
// members of every group sit on both, each at the same offered rate. It measures what a delivery to a member on
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
  notes: string[];
}

export interface ClusterResult {
  /** Why the run stopped early (Postgres, Redis, setup), or null. */
  failure: string | null;
  /** One node, then two. */
  runs: NodesResult[];
  /** Every message of both configurations: one conversation history per group, 1..N over both. */
  correctness: ServerResult['correctness'];
  notes: string[];
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

/**
 * The records of both configurations as one: each group's messages of both, so its numbers must
 * run 1..N over both (the second configuration continues the same conversations).
 */
function mergeRecords(parts: Records[][]): Records[] {
  const groups = new Map<string, Records['groups'][number]>();
  const counters: Records[] = [];
  for (const part of parts.flat()) {
    counters.push({ ...part, groups: [] });
    for (const group of part.groups) {
      const merged = groups.get(group.id);
      if (merged) merged.messages.push(...group.messages);
      else groups.set(group.id, { id: group.id, messages: [...group.messages] });
    }
  }
  return [...counters, { groups: [...groups.values()], duplicates: 0, seqConflicts: 0, strays: 0, refusals: 0, firstRefusals: [] }];
}

interface Shared {
  plan: LoadPlan;
  servers: ServerProcess[];
  accounts: { userId: string; token: string }[];
  groupIds: string[];
  counters: BackendCounters;
  log: (line: string) => void;
  /** Each configuration's records, kept for the check at the end. */
  records: Records[][];
}

/** The same clients on the first `nodes` of `shared.servers`: connect, join, warm up, steady phase. */
async function runNodes(nodes: number, shared: Shared): Promise<NodesResult> {
  const { plan, log } = shared;
  const label = nodes === 1 ? 'one node' : `${nodes} nodes`;
  const result: NodesResult = { nodes, failure: null, steady: null, load: null, notes: [] };
  const servers = shared.servers.slice(0, nodes);
  const pool = new GeneratorPool(plan.generators);
  let sending = false;
  try {
    const clients = clientPlans(plan, nodes, shared.accounts, shared.groupIds);
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
    const before = await shared.counters.read();
    result.steady = await run.phase(1, 'open', plan.cluster.rate, plan.cluster.steadyMs, plan.drainMs);
    result.load = BackendCounters.between(before, await shared.counters.read());
    if (result.steady.caughtUpMs === null) throw new Error('overloaded: the steady phase backlog never drained');
    if (result.steady.drainedMs === null) result.notes.push(`the backlog drained ${(result.steady.caughtUpMs / 1000).toFixed(0)} s after sending stopped`);
    return result;
  } catch (error) {
    result.failure = (error as Error).message;
    return result;
  } finally {
    if (sending) {
      const final = await pool.call<Records>(() => ({ type: 'records' }), 60_000).catch((error: unknown) => {
        result.notes.push(`could not collect the generators' records: ${(error as Error).message}`);
        return null;
      });
      if (final) {
        shared.records.push(final);
        const refusals = final.reduce((n, r) => n + r.refusals, 0);
        if (refusals) result.notes.push(`${refusals} documents closed by a node and synced again, first: ${final.flatMap((r) => r.firstRefusals).slice(0, 2).join(' | ')}`);
      }
    }
    await pool.close();
    log(`${label}: done`);
  }
}

/**
 * The same clients on one node, then on two, over one throwaway Postgres (with
 * pg_stat_statements) and one redis-server: one sign-up, one database; the second node joins the
 * first, and the second configuration continues the same conversations. Then every message of
 * both is checked against what the clients saw and what Postgres holds.
 */
export async function runClusterLoad(plan: LoadPlan, print: (line: string) => void): Promise<ClusterResult> {
  const started = performance.now();
  const log = (line: string) => print(`${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s  Outpost over Postgres and Redis, ${line}`);
  const loadAverage = () => os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const result: ClusterResult = {
    failure: null,
    runs: [],
    correctness: { checked: false, messages: 0, stored: null, problems: [] },
    notes: [],
    loadAverage: { start: loadAverage(), end: '' },
  };
  let postgres: PostgresServer | null = null;
  let redis: RedisServer | null = null;
  let counters: BackendCounters | null = null;
  const servers: ServerProcess[] = [];
  const dataDirs: string[] = [];
  const cleanups: { forget(): void }[] = [];
  const records: Records[][] = [];
  let databaseUrl = '';
  try {
    postgres = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_utility': 'on' } });
    redis = await startRedis();
    databaseUrl = postgres.url;
    // Nodes of one deployment share the database, Redis and the key that signs tokens.
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url, OUTPOST_SIGNING_KEY: randomBytes(32).toString('base64') };
    for (let n = 0; n < 2; n++) {
      const dir = await mkdtemp(path.join(tmpdir(), `outpost-bench-node${n}-`));
      dataDirs.push(dir);
      cleanups.push(removeOnExit(dir));
    }
    servers.push(await ServerProcess.start(kind, dataDirs[0] as string, plan, env));
    const groups = Array.from({ length: plan.clients / plan.groupSize }, (_, g) => Array.from({ length: plan.groupSize }, (_, s) => g * plan.groupSize + s));
    log(`${plan.clients} accounts, ${groups.length} groups`);
    const setup = await withDeadline('setup', kind.setup.prepare(servers[0]?.url as string, plan.clients, groups), 120_000 + plan.clients * 200);
    counters = await BackendCounters.open(databaseUrl, redis.url);
    const shared: Shared = { plan, servers, accounts: setup.accounts, groupIds: setup.groupIds, counters, log, records };
    result.runs.push(await runNodes(1, shared));
    if (!result.runs[0]?.failure) {
      servers.push(await ServerProcess.start(kind, dataDirs[1] as string, plan, env));
      result.runs.push(await runNodes(2, shared));
    }
  } catch (error) {
    result.failure = (error as Error).message;
  } finally {
    await counters?.close();
    for (const server of servers) if (!(await server.stop(60_000))) result.notes.push('a node did not stop within 60 s of SIGTERM and was killed');
    if (records.length > 0) {
      const merged = mergeRecords(records);
      const checked = checkRecords(merged, true);
      result.correctness = { checked: true, messages: checked.messages, stored: null, problems: checked.problems };
      const groups = merged.flatMap((r) => r.groups).map((g) => ({ id: g.id, messages: g.messages.map((m) => ({ id: m.id, seq: m.seq })) }));
      try {
        const storage = await verifyStorage({ dataDir: dataDirs[0] as string, databaseUrl }, groups);
        result.correctness.stored = storage.agreeing;
        result.correctness.problems.push(...storage.problems);
      } catch (error) {
        result.correctness.problems.push(`storage check failed: ${(error as Error).message}`);
      }
    }
    await redis?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    for (const cleanup of cleanups) cleanup.forget();
    result.loadAverage.end = loadAverage();
  }
  return result;
}

/** True when both configurations ran to the end and every message checked out. */
export function clusterSucceeded(result: ClusterResult): boolean {
  return !result.failure && result.runs.length === 2 && result.runs.every((r) => !r.failure) && result.correctness.checked && result.correctness.problems.length === 0;
}
