// Prints the server load run: one column per server, Outpost's ratios to the baselines measured in
// the same run, and where each of issue 9's targets stands. Numbers and ratios only: a missed
// target is reported, never asserted.
import type { SqliteInsertResult } from '../baselines/sqliteInsert.ts';
import type { LoadPlan } from '../scenarios/serverLoadPlan.ts';
import { STEP_P99_MS, type LatencySummary, type PhaseSummary, type ServerResult } from '../scenarios/serverLoadRun.ts';

function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}

/** A ratio with two significant digits at least (×0.0034, ×0.52, ×12.40). */
function fixed(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return ratio >= 0.1 || ratio === 0 ? ratio.toFixed(2) : ratio.toPrecision(2);
}

function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
}

function latencies(summary: LatencySummary | undefined): string {
  return summary && summary.count > 0 ? `${ms(summary.p50)} / ${ms(summary.p95)} / ${ms(summary.p99)}` : '—';
}

/** A duration with its unit: 0.44 ms, 27 ms, 27.7 s. */
function duration(value: number): string {
  return value >= 10_000 ? ms(value) : `${ms(value)} ms`;
}

function drained(phase: PhaseSummary | null): string {
  if (!phase) return '—';
  if (phase.drainedMs !== null) return duration(phase.drainedMs);
  if (phase.caughtUpMs === null) return `never (overloaded)`;
  return `${duration(phase.caughtUpMs)} (overloaded: over ${phase.drainLimitMs / 1000} s)`;
}

function cpu(phase: PhaseSummary | null, pick: (p: PhaseSummary) => number): string {
  return phase ? `${pick(phase).toFixed(0)}%` : '—';
}

function saturation(result: ServerResult, plan: LoadPlan): string {
  if (result.saturation === null) return '—';
  if (result.saturation === 0) return `< ${int(plan.steps[0] ?? 0)}`;
  const last = result.steps.at(-1);
  return result.steps.every((s) => s.passed) ? `≥ ${int(result.saturation)}` : `${int(result.saturation)} (${int(last?.offeredRate ?? 0)}: ${last?.why})`;
}

function correctness(result: ServerResult): string {
  if (!result.correctness.checked) return 'not checked';
  const stored = result.correctness.stored === null ? '' : `, ${int(result.correctness.stored)} in storage`;
  if (result.correctness.problems.length === 0) return `ok, ${int(result.correctness.messages)} messages${stored}`;
  return `FAILED (${result.correctness.problems.length} problems)`;
}

/** Prints a table: a label column and one column per server. */
function table(print: (line: string) => void, header: string[], rows: string[][]): void {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `   ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' │ ')}`.trimEnd();
  print(line(header));
  print(`   ${widths.map((w) => '─'.repeat(w)).join('─┼─')}`);
  for (const row of rows) print(line(row));
}

/**
 * The group commit the acknowledged rate is held against. Issue 9 names no batch size; its
 * 10,663/s batched vs 3,795/s one-per-transaction looks like batches of 2–3 on its disk. A node
 * acknowledging a few thousand messages a second with ~1 ms commits gathers about 10 per commit;
 * the ratios to 1 and 100 are printed beside it.
 */
const TARGET_BATCH = 10;

interface Target {
  what: string;
  ratio: number;
  goal: string;
  /** null: cannot tell (a baseline it is held against measured nothing, or passed no step). */
  met: boolean | null;
  detail: string;
}

/** Outpost's standing against issue 9's targets, as ratios to what was measured in this run. */
export function targets(results: ServerResult[], sqlite: SqliteInsertResult, plan: LoadPlan): Target[] {
  const by = (key: ServerResult['key']) => results.find((r) => r.key === key);
  const outpost = by('outpost');
  const relay = by('relay');
  const hocuspocus = by('hocuspocus');
  if (!outpost) return [];
  const list: Target[] = [];
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a != null && b ? a / b : NaN);
  const rate = (r: ServerResult | undefined) => (r?.saturation == null ? '—' : r.saturation === 0 ? `< ${plan.steps[0]}` : int(r.saturation));
  const held = (value: number, pass: (ratio: number) => boolean) => (Number.isFinite(value) ? pass(value) : null);
  const satRelay = ratio(outpost.saturation, relay?.saturation);
  list.push({ what: 'saturation vs raw relay', ratio: satRelay, goal: '≥ 0.5', met: held(satRelay, (r) => r >= 0.5), detail: `${rate(outpost)} vs ${rate(relay)} msg/s` });
  const satHocuspocus = ratio(outpost.saturation, hocuspocus?.saturation);
  list.push({ what: 'saturation vs plain Hocuspocus', ratio: satHocuspocus, goal: '≥ 0.8', met: held(satHocuspocus, (r) => r >= 0.8), detail: `${rate(outpost)} vs ${rate(hocuspocus)} msg/s` });
  const p99 = ratio(outpost.steady?.deliver.p99, relay?.steady?.deliver.p99);
  list.push({ what: 'deliver p99 at the steady rate vs raw relay', ratio: p99, goal: '≤ 2', met: held(p99, (r) => r <= 2), detail: `${ms(outpost.steady?.deliver.p99 ?? NaN)} vs ${ms(relay?.steady?.deliver.p99 ?? NaN)} ms` });
  const batched = sqlite.rates.find((r) => r.batchSize === TARGET_BATCH)?.perSecond ?? NaN;
  const acks = ratio(outpost.closed?.acksPerSecond, batched);
  list.push({
    what: `acknowledged msg/s (closed loop) vs SQLite insert in batches of ${TARGET_BATCH}`,
    ratio: acks,
    goal: '≥ 0.3',
    met: held(acks, (r) => r >= 0.3),
    detail: `${int(outpost.closed?.acksPerSecond ?? NaN)} vs ${int(batched)}/s (${sqlite.rates.map((r) => `×${fixed(ratio(outpost.closed?.acksPerSecond, r.perSecond))} of batches of ${r.batchSize}`).join(', ')})`,
  });
  // "A message reaches each member as close to one frame as the protocol allows (≤ 1.3× plain
  // Hocuspocus in bytes and frames per message)", at the steady rate.
  const bytes = ratio(outpost.steady?.bytesPerMessage, hocuspocus?.steady?.bytesPerMessage);
  list.push({ what: 'bytes received per message vs plain Hocuspocus', ratio: bytes, goal: '≤ 1.3', met: held(bytes, (r) => r <= 1.3), detail: `${int(outpost.steady?.bytesPerMessage ?? NaN)} vs ${int(hocuspocus?.steady?.bytesPerMessage ?? NaN)} B` });
  const frames = ratio(outpost.steady?.framesPerMessage, hocuspocus?.steady?.framesPerMessage);
  list.push({
    what: 'frames received per message vs plain Hocuspocus',
    ratio: frames,
    goal: '≤ 1.3',
    met: held(frames, (r) => r <= 1.3),
    detail: `${(outpost.steady?.framesPerMessage ?? NaN).toFixed(1)} vs ${(hocuspocus?.steady?.framesPerMessage ?? NaN).toFixed(1)}`,
  });
  const kib = (outpost.idle?.bytesPerConnection ?? NaN) / 1024;
  list.push({ what: 'RSS per idle connection', ratio: kib / 30, goal: '≤ 30 KiB', met: held(kib, (k) => k <= 30), detail: `${kib.toFixed(1)} KiB` });
  // Plain Hocuspocus with the same documents open spends only its own timers (pings, checks):
  // "timers only" is that, within one percent of a core.
  const idleCpu = outpost.idle?.cpuPercent ?? NaN;
  const timersCpu = hocuspocus?.idle?.cpuPercent ?? NaN;
  list.push({
    what: 'CPU while connections sit idle',
    ratio: NaN,
    goal: 'timers only (≤ plain Hocuspocus + 1% of a core)',
    met: held(idleCpu - timersCpu, (above) => above <= 1),
    detail: `${idleCpu.toFixed(1)}% of a core (plain Hocuspocus ${timersCpu.toFixed(1)}%, raw relay ${(relay?.idle?.cpuPercent ?? NaN).toFixed(1)}%)`,
  });
  return list;
}

export function printServerLoadReport(plan: LoadPlan, machine: string, results: ServerResult[], sqlite: SqliteInsertResult, print: (line: string) => void = console.log): void {
  print(`\n## Server load (${plan.name} run)`);
  print(`   ${plan.clients.toLocaleString('en-US')} clients in groups of ${plan.groupSize}, 100-character messages, ${plan.generators} generator processes;`);
  print(`   steady ${plan.steadyRate} msg/s for ${plan.steadyMs / 1000} s after ${plan.warmupMs / 1000} s warm-up; steps ${plan.steps.join(', ')} msg/s × ${plan.stepMs / 1000} s;`);
  print(`   closed loop ${plan.closedLoopMs / 1000} s; idle: ${plan.idleClients.toLocaleString('en-US')} clients. Latencies in ms unless marked.`);
  print(`   ${machine}; servers and generators share these cores.`);
  const column = (pick: (r: ServerResult) => string) => results.map((r) => (r.failure && pick(r) === '—' ? '—' : pick(r)));
  const rows: string[][] = [
    [`deliver p50 / p95 / p99 at ${plan.steadyRate} msg/s`, ...column((r) => latencies(r.steady?.deliver))],
    [`ack p50 / p95 / p99 at ${plan.steadyRate} msg/s`, ...column((r) => latencies(r.steady?.ack))],
    ['  everything arrived, after sending stopped', ...column((r) => drained(r.steady))],
    ['  sent / achieved rate', ...column((r) => (r.steady ? `${int(r.steady.sent)} / ${int(r.steady.achievedRate)} msg/s` : '—'))],
    [`highest rate, p99 ≤ ${STEP_P99_MS} ms, nothing lost`, ...column((r) => saturation(r, plan))],
    ['acknowledged msg/s, closed loop', ...column((r) => (r.closed ? int(r.closed.acksPerSecond) : '—'))],
    ['  ack p50 / p99 in the closed loop', ...column((r) => (r.closed?.ack.count ? `${ms(r.closed.ack.p50)} / ${ms(r.closed.ack.p99)}` : '—'))],
    ['  CPU in the closed loop: server / each generator', ...column((r) => (r.closed ? `${cpu(r.closed, (p) => p.serverCpuPercent)} / ${cpu(r.closed, (p) => p.generatorCpuPercent)} of a core` : '—'))],
    ['server CPU per message (steady)', ...column((r) => (r.steady ? `${r.steady.serverCpuMsPerMessage.toFixed(2)} ms` : '—'))],
    ['bytes received by clients per message', ...column((r) => (r.steady ? int(r.steady.bytesPerMessage) : '—'))],
    ['frames received by clients per message', ...column((r) => (r.steady ? r.steady.framesPerMessage.toFixed(1) : '—'))],
    [`RSS per idle connection`, ...column((r) => (r.idle ? `${(r.idle.bytesPerConnection / 1024).toFixed(1)} KiB` : '—'))],
    ['server CPU while idle', ...column((r) => (r.idle ? `${r.idle.cpuPercent.toFixed(1)}% of a core` : '—'))],
    ['/health p50 / p99 / max during load', ...column((r) => (r.health?.probes ? `${ms(r.health.p50)} / ${ms(r.health.p99)} / ${ms(r.health.max)}` : '—'))],
    ['  /health probes failed (10 s timeout)', ...column((r) => (r.health ? `${r.health.failed} of ${r.health.probes}` : '—'))],
    ['CPU (steady): server / each generator', ...column((r) => (r.steady ? `${cpu(r.steady, (p) => p.serverCpuPercent)} / ${cpu(r.steady, (p) => p.generatorCpuPercent)} of a core` : '—'))],
    ['every message checked', ...results.map(correctness)],
  ];
  table(print, ['', ...results.map((r) => r.label)], rows);

  print(`   raw better-sqlite3 insert of the same update bytes (${int(sqlite.updateBytes)} B each; WAL, synchronous=FULL), rows/s:`);
  print(`     ${sqlite.rates.map((r) => `${int(r.perSecond)} in ${r.batchSize === 1 ? 'one transaction per row' : `batches of ${r.batchSize}`}`).join(', ')}`);

  for (const result of results) {
    if (result.failure) print(`   ${result.label}: stopped early: ${result.failure}`);
    for (const note of result.notes) print(`   ${result.label}: ${note}`);
    for (const problem of result.correctness.problems.slice(0, 10)) print(`   ${result.label}: PROBLEM: ${problem}`);
    for (const step of result.steps) {
      print(
        `   ${result.label}: step ${int(step.offeredRate ?? 0)} msg/s: deliver p99 ${duration(step.deliver.p99)}, ack p99 ${duration(step.ack.p99)}, ` +
          `sent ${int(step.achievedRate)} msg/s, CPU server ${cpu(step, (p) => p.serverCpuPercent)} / generator ${cpu(step, (p) => p.generatorCpuPercent)}: ` +
          (step.passed ? 'passed' : `failed: ${step.why}`),
      );
    }
  }

  const standing = targets(results, sqlite, plan);
  if (standing.length > 0) {
    print('   Targets (issue 9), Outpost against this run:');
    for (const t of standing) {
      const ratio = Number.isFinite(t.ratio) ? `×${fixed(t.ratio)}, ` : '';
      print(`     ${t.met === null ? 'n/a   ' : t.met ? 'met   ' : 'MISSED'} ${t.what} ${t.goal}: ${ratio}${t.detail}`);
    }
  }
}

/** True when every server ran to the end and every message checked out. */
export function runSucceeded(results: ServerResult[]): boolean {
  return results.every((r) => !r.failure && r.correctness.checked && r.correctness.problems.length === 0);
}
