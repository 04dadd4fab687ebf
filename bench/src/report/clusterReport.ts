// Prints the two-node run: the same clients on one node and on two, the latency a delivery to a
// member on the other node adds, and what Postgres and Redis carried per message. Numbers only:
// the target (median added < 5 ms) is reported as met or MISSED, never asserted.
import type { NodesResult, ClusterResult } from '../scenarios/clusterLoad.ts';
import type { LoadPlan } from '../scenarios/serverLoadPlan.ts';
import { STEP_P99_MS, type LatencySummary } from '../scenarios/serverLoadRun.ts';

/** The issue 10 target: what a cross-node delivery may add to the one-node median. */
export const ADDED_MEDIAN_TARGET_MS = 5;

function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return Math.abs(value) < 10 ? value.toFixed(2) : value.toFixed(0);
}

/** A duration with its unit: 8.59 ms, 272 ms, 21.8 s. */
function duration(value: number): string {
  return Math.abs(value) >= 10_000 ? ms(value) : `${ms(value)} ms`;
}

function signed(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${duration(Math.abs(value))}` : '—';
}

function latencies(summary: LatencySummary | undefined): string {
  return summary && summary.count > 0 ? `${ms(summary.p50)} / ${ms(summary.p95)} / ${ms(summary.p99)} (${summary.count.toLocaleString('en-US')})` : '—';
}

function perMessage(run: NodesResult, value: (r: NodesResult) => number | undefined, digits = 1): string {
  const sent = run.steady?.sent ?? 0;
  const v = value(run);
  return sent > 0 && v !== undefined ? (v / sent).toFixed(digits) : '—';
}

function correctness(result: ClusterResult): string {
  const c = result.correctness;
  if (!c.checked) return 'not checked';
  const stored = c.stored === null ? '' : `, ${c.stored.toLocaleString('en-US')} in Postgres as their authors saw them`;
  return c.problems.length === 0 ? `ok, ${c.messages.toLocaleString('en-US')} messages of both runs, each group numbered 1..N${stored}` : `FAILED (${c.problems.length} problems)`;
}

/** The Redis commands of a run, most called first, per message: "publish 2.0, evalsha 1.0". */
function redisCommands(run: NodesResult): string {
  const sent = run.steady?.sent ?? 0;
  if (!run.load || sent === 0) return '—';
  return Object.entries(run.load.redis.perCommand)
    .sort((a, b) => b[1] - a[1])
    .filter(([, calls]) => calls / sent >= 0.05)
    .map(([name, calls]) => `${name} ${(calls / sent).toFixed(2)}`)
    .join(', ') || 'none';
}

/**
 * Cross-node p50 and p99 minus the one-node run's (the target), and minus the same-node members'
 * of the same two-node run (the hop through Redis alone); NaN where one is missing.
 */
export function addedLatency(result: ClusterResult): { p50: number; p99: number; overSameNode: { p50: number; p99: number } } {
  const one = result.runs.find((r) => r.nodes === 1)?.steady?.deliver;
  const two = result.runs.find((r) => r.nodes === 2)?.steady;
  const cross = two?.deliverCrossNode;
  const same = two?.deliverSameNode;
  const minus = (a: LatencySummary | undefined, b: LatencySummary | undefined) => (a?.count && b?.count ? { p50: a.p50 - b.p50, p99: a.p99 - b.p99 } : { p50: NaN, p99: NaN });
  return { ...minus(cross, one), overSameNode: minus(cross, same) };
}

export function printClusterReport(plan: LoadPlan, result: ClusterResult, print: (line: string) => void = console.log): void {
  print(`\n## Outpost on two nodes over one Postgres and one Redis (${plan.name} run)`);
  print(`   the same ${plan.clients.toLocaleString('en-US')} clients in groups of ${plan.groupSize}: all on one node, then a second node joins and every group is split`);
  print(`   over the two (members alternate), continuing the same conversations; ${plan.cluster.rate} msg/s for ${plan.cluster.steadyMs / 1000} s after ${plan.cluster.warmupMs / 1000} s warm-up; throwaway Postgres 15 (fsync off) and`);
  print('   redis-server shared by the nodes; deliver p50 / p95 / p99 in ms (deliveries). Per message: over the steady phase until everything arrived.');
  print(`   Load average ${result.loadAverage.start} at the start of this run, ${result.loadAverage.end} at its end.`);
  if (result.failure) print(`   stopped early: ${result.failure}`);
  if (result.runs.length === 0) return;
  const rows: [string, (r: NodesResult) => string][] = [
    ['deliver, every member', (r) => latencies(r.steady?.deliver)],
    ['  members on the author\'s node', (r) => (r.nodes === 1 ? '(all)' : latencies(r.steady?.deliverSameNode))],
    ['  members on the other node', (r) => (r.nodes === 1 ? '—' : latencies(r.steady?.deliverCrossNode))],
    ['ack p50 / p95 / p99', (r) => latencies(r.steady?.ack)],
    ['  sent / achieved rate', (r) => (r.steady ? `${r.steady.sent.toLocaleString('en-US')} / ${Math.round(r.steady.achievedRate)} msg/s` : '—')],
    ['node CPU per message (nodes summed)', (r) => (r.steady ? `${r.steady.serverCpuMsPerMessage.toFixed(2)} ms` : '—')],
    ['Postgres statements / COMMITs per message', (r) => `${perMessage(r, (x) => x.load?.postgres.statements)} / ${perMessage(r, (x) => x.load?.postgres.commits, 2)}`],
    ['Postgres rows / WAL bytes per message', (r) => `${perMessage(r, (x) => x.load?.postgres.rows)} / ${perMessage(r, (x) => x.load?.postgres.walBytes, 0)}`],
    ['Postgres backends\' CPU per message', (r) => `${perMessage(r, (x) => x.load?.postgres.cpuMs, 2)} ms`],
    ['Redis commands per message', (r) => perMessage(r, (x) => x.load?.redis.commands, 2)],
    ['  of which', redisCommands],
    ['Redis bytes in / out per message', (r) => `${perMessage(r, (x) => x.load?.redis.bytesIn, 0)} / ${perMessage(r, (x) => x.load?.redis.bytesOut, 0)}`],
    ['Redis CPU per message', (r) => `${perMessage(r, (x) => x.load?.redis.cpuMs, 3)} ms`],
  ];
  const header = ['', ...result.runs.map((r) => (r.nodes === 1 ? 'one node' : `${r.nodes} nodes`))];
  const table = [header, ...rows.map(([label, cell]) => [label, ...result.runs.map((r) => (r.failure && !r.steady ? '—' : cell(r)))])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `   ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' │ ')}`.trimEnd();
  print(line(header));
  print(`   ${widths.map((w) => '─'.repeat(w)).join('─┼─')}`);
  for (const row of table.slice(1)) print(line(row));
  print(`   every message checked: ${correctness(result)}`);
  for (const run of result.runs) {
    const label = run.nodes === 1 ? 'one node' : `${run.nodes} nodes`;
    if (run.failure) print(`   ${label}: stopped early: ${run.failure}`);
    for (const note of run.notes) print(`   ${label}: ${note}`);
  }
  for (const note of result.notes) print(`   ${note}`);
  for (const problem of result.correctness.problems.slice(0, 10)) print(`   PROBLEM: ${problem}`);
  const added = addedLatency(result);
  const one = result.runs.find((r) => r.nodes === 1)?.steady?.deliver;
  // A one-node run that would fail a step (p99 over the pass mark) was short of CPU: what the
  // second node adds cannot be told from what the machine withheld, so the target is not judged.
  const overloaded = one !== undefined && one.p99 > STEP_P99_MS;
  const met = !Number.isFinite(added.p50) || overloaded ? 'n/a   ' : added.p50 < ADDED_MEDIAN_TARGET_MS ? 'met   ' : 'MISSED';
  print('   Target (issue 10), deliver to a member on the other node against the one-node run:');
  print(`     ${met} added median < ${ADDED_MEDIAN_TARGET_MS} ms: ${signed(added.p50)} (p99 ${signed(added.p99)})`);
  if (overloaded) print(`            not judged: the one-node run was itself overloaded (p99 deliver ${duration(one.p99)} > ${STEP_P99_MS} ms); the machine, not the hop, set these figures`);
  print(`     against the members on the author's node in the same two-node run: median ${signed(added.overSameNode.p50)}, p99 ${signed(added.overSameNode.p99)}`);
}
