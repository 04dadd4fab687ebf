// One server under load, phase by phase: fresh process, idle connections, a steady rate, rising
// steps until one fails, a closed loop; then every message checked. Every wait has a deadline, so
// an overloaded server is reported as overloaded instead of hanging the bench.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkRecords } from '../load/checkRecords.ts';
import { removeOnExit } from '../load/cleanup.ts';
import type { PhaseResult, Progress, Records, RunResult, StepResult } from '../load/commands.ts';
import { GeneratorPool } from '../load/GeneratorPool.ts';
import { HealthProbe, type HealthSummary } from '../load/HealthProbe.ts';
import { LatencyHistogram } from '../load/LatencyHistogram.ts';
import type { ClientPlan } from '../load/protocol.ts';
import { ServerKinds, type ServerKey } from '../load/servers.ts';
import { ServerProcess } from '../load/ServerProcess.ts';
import { allocationReport } from '../report/allocations.ts';
import { heapDiff } from '../report/heapDiff.ts';
import type { LoadPlan } from './serverLoadPlan.ts';

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

export interface PhaseSummary {
  /** Messages a second offered; null for the closed loop. */
  offeredRate: number | null;
  sent: number;
  achievedRate: number;
  deliver: LatencySummary;
  /** Deliveries to members on their author's node, and on another node (empty with one node). */
  deliverSameNode: LatencySummary;
  deliverCrossNode: LatencySummary;
  ack: LatencySummary;
  /**
   * How long after sending stopped everything had arrived (also what earlier phases left), or null
   * when not within `drainLimitMs`: the server was overloaded.
   */
  drainedMs: number | null;
  drainLimitMs: number;
  /** When not drained in time: (message, member) pairs and acknowledgements still missing at the limit. */
  missingAtLimit: { deliveries: number; acks: number } | null;
  /**
   * How long after sending stopped the server had caught up, including the extra time an
   * overloaded one is given; null when it never did. The phase is measured over all of it, so
   * late deliveries count in its latencies and its backlog's work in its CPU and bytes.
   */
  caughtUpMs: number | null;
  /** When the phase was collected: (message, member) pairs not delivered, messages not acknowledged. */
  undelivered: number;
  unacknowledged: number;
  /** Acknowledgements a second while sending (the closed loop's throughput). */
  acksPerSecond: number;
  /** Server CPU (every node's, summed) per message sent. */
  serverCpuMsPerMessage: number;
  /** Server CPU (every node's, summed) from the start of sending until everything arrived, % of one core. */
  serverCpuPercent: number;
  bytesPerMessage: number;
  framesPerMessage: number;
  /** Average over generators, % of one core. */
  generatorCpuPercent: number;
}

export interface StepSummary extends PhaseSummary {
  passed: boolean;
  why: string;
}

export interface IdleSummary {
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerConnection: number;
  /** Server CPU while every connection sat idle, % of one core. */
  cpuPercent: number;
  windowMs: number;
}

export interface ServerResult {
  key: ServerKey;
  label: string;
  /** Why the run stopped early (setup failed, backlog never drained), or null. */
  failure: string | null;
  idle: IdleSummary | null;
  steady: PhaseSummary | null;
  steps: StepSummary[];
  /** Highest step that passed (0: none did); null when the steps did not run. */
  saturation: number | null;
  closed: PhaseSummary | null;
  health: HealthSummary | null;
  correctness: {
    checked: boolean;
    messages: number;
    /** Messages found in the stopped server's storage as their authors saw them acknowledged (null: the server stores nothing). */
    stored: number | null;
    problems: string[];
  };
  notes: string[];
}

/** The pass mark of a step: p99 deliver within this, nothing lost. */
export const STEP_P99_MS = 100;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withDeadline<T>(what: string, work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function summary(histogram: LatencyHistogram): LatencySummary {
  return { p50: histogram.percentile(0.5), p95: histogram.percentile(0.95), p99: histogram.percentile(0.99), max: histogram.max, count: histogram.count };
}

function sum(results: StepResult[]): StepResult {
  return {
    done: results.reduce((n, r) => n + r.done, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
  };
}

/** Who is in which group, and which generator runs them: a whole group in one generator. */
function clientPlans(plan: LoadPlan, accounts: { userId: string; token: string }[], groupIds: string[]): ClientPlan[][] {
  const perGenerator: ClientPlan[][] = Array.from({ length: plan.generators }, () => []);
  for (let i = 0; i < plan.idleClients; i++) {
    const account = accounts[i];
    if (!account) throw new Error(`no account for client ${i}`);
    const g = Math.floor(i / plan.groupSize);
    const inGroup = i < plan.clients;
    const client: ClientPlan = {
      index: i,
      account,
      group: inGroup ? { id: groupIds[g] as string, size: plan.groupSize } : null,
      slot: i % plan.groupSize,
      node: 0,
    };
    perGenerator[(inGroup ? g : i) % plan.generators]?.push(client);
  }
  return perGenerator;
}

/** The phases of a run against one server, or one server's nodes (CPU is summed over them). */
export class Run {
  readonly plan: LoadPlan;
  readonly pool: GeneratorPool;
  readonly servers: ServerProcess[];
  /** Group members per generator: each offers its share of a rate. */
  readonly shares: number[];

  constructor(plan: LoadPlan, pool: GeneratorPool, servers: ServerProcess[], clients: ClientPlan[][]) {
    this.plan = plan;
    this.pool = pool;
    this.servers = servers;
    const members = clients.flat().filter((c) => c.group).length;
    this.shares = clients.map((list) => list.filter((c) => c.group).length / members);
  }

  cpuMs(): number {
    return this.servers.reduce((n, server) => n + server.cpuMs(), 0);
  }

  /** Waits until nothing is pending: how long that took, or null after `limitMs` with what was still missing. */
  async drain(limitMs: number): Promise<{ ms: number | null; missing: { deliveries: number; acks: number } }> {
    const started = performance.now();
    for (;;) {
      for (const server of this.servers) server.assertRunning();
      const progress = await this.pool.call<Progress>(() => ({ type: 'progress' }), 30_000);
      const missing = { deliveries: progress.reduce((n, p) => n + p.pendingDeliveries, 0), acks: progress.reduce((n, p) => n + p.pendingAcks, 0) };
      if (missing.deliveries === 0 && missing.acks === 0) return { ms: performance.now() - started, missing };
      if (performance.now() - started > limitMs) return { ms: null, missing };
      await sleep(25);
    }
  }

  async phase(index: number, mode: 'open' | 'closed', rate: number, durationMs: number, drainMs: number): Promise<PhaseSummary> {
    const cpuBefore = this.cpuMs();
    const started = performance.now();
    const runs = await this.pool.call<RunResult>(
      (g) => (mode === 'open' ? { type: 'run', phase: index, mode, rate: rate * (this.shares[g] ?? 0), durationMs } : { type: 'run', phase: index, mode, durationMs }),
      durationMs + 60_000,
    );
    const drained = await this.drain(drainMs);
    const recovery = drained.ms === null ? await this.drain(this.plan.recoverMs) : null;
    const caughtUpMs = drained.ms ?? (recovery?.ms == null ? null : drainMs + recovery.ms);
    const cpuMs = this.cpuMs() - cpuBefore;
    const wallMs = performance.now() - started;
    const parts = await this.pool.call<PhaseResult>(() => ({ type: 'collect', phase: index }), 30_000);
    const deliver = new LatencyHistogram();
    const deliverSameNode = new LatencyHistogram();
    const deliverCrossNode = new LatencyHistogram();
    const ack = new LatencyHistogram();
    for (const part of parts) {
      deliver.add(part.deliver);
      deliverSameNode.add(part.deliverSameNode);
      deliverCrossNode.add(part.deliverCrossNode);
      ack.add(part.ack);
    }
    const total = (pick: (p: PhaseResult) => number) => parts.reduce((n, p) => n + pick(p), 0);
    const sent = total((p) => p.sent);
    const sendMs = Math.max(...runs.map((r) => r.sendMs));
    return {
      offeredRate: mode === 'open' ? rate : null,
      sent,
      achievedRate: (sent * 1000) / sendMs,
      deliver: summary(deliver),
      deliverSameNode: summary(deliverSameNode),
      deliverCrossNode: summary(deliverCrossNode),
      ack: summary(ack),
      drainedMs: drained.ms,
      drainLimitMs: drainMs,
      missingAtLimit: drained.ms === null ? drained.missing : null,
      caughtUpMs,
      undelivered: sent * (this.plan.groupSize - 1) - total((p) => p.deliveries),
      unacknowledged: sent - total((p) => p.acks),
      acksPerSecond: (total((p) => p.acksWhileSending) * 1000) / sendMs,
      serverCpuMsPerMessage: cpuMs / Math.max(1, sent),
      serverCpuPercent: (cpuMs / wallMs) * 100,
      bytesPerMessage: total((p) => p.wire.bytes) / Math.max(1, sent),
      framesPerMessage: total((p) => p.wire.frames) / Math.max(1, sent),
      generatorCpuPercent: (total((p) => p.cpuMs) / parts.length / wallMs) * 100,
    };
  }
}

/** Runs every phase against one server; never throws for the server's sake (failures are results). */
export async function runServerLoad(key: ServerKey, plan: LoadPlan, print: (line: string) => void): Promise<ServerResult> {
  const kind = ServerKinds[key];
  const started = performance.now();
  const log = (line: string) => print(`${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s  ${line}`);
  const result: ServerResult = {
    key,
    label: kind.label,
    failure: null,
    idle: null,
    steady: null,
    steps: [],
    saturation: null,
    closed: null,
    health: null,
    correctness: { checked: false, messages: 0, stored: null, problems: [] },
    notes: [],
  };
  const dataDir = await mkdtemp(path.join(tmpdir(), `outpost-bench-${key}-`));
  const dataDirCleanup = removeOnExit(dataDir);
  let server: ServerProcess | null = null;
  let pool: GeneratorPool | null = null;
  let probe: HealthProbe | null = null;
  /** Set once messages have been sent: from then on they are all checked, however the run ends. */
  let sending = false;
  try {
    server = await ServerProcess.start(kind, dataDir, plan);
    const groups = Array.from({ length: plan.clients / plan.groupSize }, (_, g) => Array.from({ length: plan.groupSize }, (_, s) => g * plan.groupSize + s));
    log(`${kind.label}: ${plan.idleClients} accounts, ${groups.length} groups`);
    const setup = await withDeadline('setup', kind.setup.prepare(server.url, plan.idleClients, groups), 120_000 + plan.idleClients * 200);
    // Every server is measured as a fresh process (for Outpost: the one that signed everyone up is gone).
    if (!(await server.stop(30_000))) result.notes.push('the server had to be killed after setup');
    server = await ServerProcess.start(kind, dataDir, plan);

    const clients = clientPlans(plan, setup.accounts, setup.groupIds);
    pool = new GeneratorPool(plan.generators);
    await pool.call((g) => ({ type: 'init', server: key, urls: [(server as ServerProcess).url], clients: clients[g] ?? [] }), 60_000);
    const run = new Run(plan, pool, [server], clients);

    // Idle: RSS and CPU with every client connected and nothing happening.
    await sleep(plan.idleSettleMs);
    const rssBefore = server.rssBytes();
    const heapBefore = await server.heapSnapshot();
    log(`${kind.label}: connecting ${plan.idleClients} idle clients`);
    const connected = sum(await pool.call<StepResult>(() => ({ type: 'connect' }), 60_000 + plan.idleClients * 50));
    if (connected.failed > 0) throw new Error(`${connected.failed} clients could not connect; first: ${connected.firstError}`);
    await sleep(plan.idleSettleMs);
    const rssAfter = server.rssBytes();
    const cpuBefore = server.cpuMs();
    await sleep(plan.idleWindowMs);
    result.idle = {
      connections: connected.done,
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      bytesPerConnection: (rssAfter - rssBefore) / connected.done,
      cpuPercent: ((server.cpuMs() - cpuBefore) / plan.idleWindowMs) * 100,
      windowMs: plan.idleWindowMs,
    };
    const heapAfter = await server.heapSnapshot();
    if (heapBefore && heapAfter) result.notes.push(`live heap per idle connection (HEAP_SNAPSHOT; RSS above is not comparable: writing a snapshot grows it)\n${heapDiff(heapBefore, heapAfter, connected.done, 12).replace(/\n/g, "\n     ")}`);

    await pool.call(() => ({ type: 'dropIdle' }), 30_000);
    log(`${kind.label}: ${plan.clients} clients join ${groups.length} groups`);
    const joined = sum(await pool.call<StepResult>(() => ({ type: 'join' }), 60_000 + plan.clients * 50));
    if (joined.failed > 0) throw new Error(`${joined.failed} clients could not join their group; first: ${joined.firstError}`);
    probe = new HealthProbe(server.url);

    let phase = 0;
    /** Notes an overloaded phase; false when the server never caught up (the run stops). */
    const caughtUp = (what: string, summary: PhaseSummary): boolean => {
      if (summary.caughtUpMs === null) {
        result.failure = `overloaded: the backlog of the ${what} had not drained ${Math.round((summary.drainLimitMs + plan.recoverMs) / 1000)} s after sending stopped`;
        return false;
      }
      if (summary.drainedMs === null) result.notes.push(`${what}: the backlog drained ${(summary.caughtUpMs / 1000).toFixed(0)} s after sending stopped`);
      return true;
    };

    log(`${kind.label}: warm-up and steady phase at ${plan.steadyRate} msg/s`);
    sending = true;
    const warmup = await run.phase(phase++, 'open', plan.steadyRate, plan.warmupMs, plan.drainMs);
    if (!caughtUp('warm-up', warmup)) return result;
    server.startAllocationSampling();
    result.steady = await run.phase(phase++, 'open', plan.steadyRate, plan.steadyMs, plan.drainMs);
    const allocations = await server.stopAllocationSampling();
    if (allocations) result.notes.push(`allocated by the main thread in the steady phase (ALLOC_PROF: ${allocations}), per message sent\n${allocationReport(allocations, result.steady.sent).replace(/\n/g, '\n     ')}`);
    if (!caughtUp('steady phase', result.steady)) return result;

    result.saturation = 0;
    for (const rate of plan.steps) {
      log(`${kind.label}: step at ${rate} msg/s`);
      const step = await run.phase(phase++, 'open', rate, plan.stepMs, plan.stepDrainMs);
      const why =
        step.achievedRate < rate * 0.95 ? `the generators sent only ${Math.round(step.achievedRate)} msg/s`
        : step.missingAtLimit ? `${step.missingAtLimit.deliveries} deliveries and ${step.missingAtLimit.acks} acknowledgements missing ${plan.stepDrainMs / 1000} s after the step`
        : step.deliver.p99 > STEP_P99_MS ? `p99 deliver ${step.deliver.p99.toFixed(0)} ms`
        : '';
      result.steps.push({ ...step, passed: why === '', why });
      if (why !== '') {
        if (!caughtUp(`${rate} msg/s step`, step)) return result;
        break;
      }
      result.saturation = rate;
    }

    log(`${kind.label}: closed loop`);
    result.closed = await run.phase(phase++, 'closed', 0, plan.closedLoopMs, plan.drainMs);
    caughtUp('closed loop', result.closed);
    return result;
  } catch (error) {
    result.failure = (error as Error).message;
    return result;
  } finally {
    if (probe) result.health = await probe.stop();
    if (pool) {
      if (sending) {
        const final = await pool.call<Records>(() => ({ type: 'records' }), 60_000).catch((error: unknown) => {
          result.correctness.problems.push(`could not collect the generators' records: ${(error as Error).message}`);
          return null;
        });
        if (final) {
          const checked = checkRecords(final, kind.setup.numbers);
          result.correctness = { checked: true, messages: checked.messages, stored: null, problems: checked.problems };
          const refusals = final.reduce((n, r) => n + r.refusals, 0);
          if (refusals) result.notes.push(`${refusals} refusals, first: ${final.flatMap((r) => r.firstRefusals).slice(0, 3).join(' | ')}`);
        }
        await pool.close();
        if (server && !(await server.stop(60_000))) result.notes.push('the server did not stop within 60 s of SIGTERM and was killed');
        if (final && kind.setup.verifyStorage) {
          const groups = final.flatMap((r) => r.groups).map((g) => ({ id: g.id, messages: g.messages.map((m) => ({ id: m.id, seq: m.seq })) }));
          try {
            const storage = await kind.setup.verifyStorage({ dataDir }, groups);
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
    if (server && !(await server.stop(10_000))) result.notes.push('the server was killed at the end');
    await rm(dataDir, { recursive: true, force: true });
    dataDirCleanup.forget();
    log(`${kind.label}: done`);
  }
}
