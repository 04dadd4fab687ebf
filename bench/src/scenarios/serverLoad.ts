// Issue 9's server load scenario: the raw relay, plain Hocuspocus and Outpost measured one after
// the other in the same run, against the disk's own limit, and printed side by side; then issue
// 10's two-node run (Outpost on one node and on two over one Postgres and Redis).
import os from 'node:os';
import { measureSqliteInsert, type SqliteInsertResult } from '../baselines/sqliteInsert.ts';
import { printClusterReport } from '../report/clusterReport.ts';
import { printServerLoadReport, runSucceeded } from '../report/serverLoadReport.ts';
import { clusterSucceeded, runClusterLoad, type ClusterResult } from './clusterLoad.ts';
import type { LoadPlan } from './serverLoadPlan.ts';
import { runServerLoad, type ServerResult } from './serverLoadRun.ts';

export interface ServerLoadOutcome {
  results: ServerResult[];
  sqlite: SqliteInsertResult;
  /** Outpost on one node and on two over one Postgres and Redis (issue 10); null when not run. */
  cluster: ClusterResult | null;
  /** Every server ran to the end and every message checked out. */
  ok: boolean;
}

export async function serverLoad(
  plan: LoadPlan,
  options: { log?: (line: string) => void; print?: (line: string) => void; cluster?: boolean } = {},
): Promise<ServerLoadOutcome> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[bench] ${line}\n`));
  const load = os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), load average ${load} at the start, Node ${process.version}`;
  log('raw SQLite insert baseline');
  const sqlite = measureSqliteInsert(plan.sqliteMs);
  const results: ServerResult[] = [];
  for (const key of plan.servers) results.push(await runServerLoad(key, plan, log));
  const cluster = options.cluster === false ? null : await runClusterLoad(plan, log);
  if (results.length > 0) printServerLoadReport(plan, machine, results, sqlite, options.print);
  else (options.print ?? console.log)(`\n   ${machine}; nodes, Postgres, Redis and generators share these cores.`);
  if (cluster) printClusterReport(plan, cluster, options.print);
  return { results, sqlite, cluster, ok: runSucceeded(results) && (cluster === null || clusterSucceeded(cluster)) };
}
