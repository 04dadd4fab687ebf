// Issue 9's server load scenario: the raw relay, plain Hocuspocus and Outpost measured one after
// the other in the same run, against the disk's own limit, and printed side by side.
import os from 'node:os';
import { measureSqliteInsert, type SqliteInsertResult } from '../baselines/sqliteInsert.ts';
import { printServerLoadReport, runSucceeded } from '../report/serverLoadReport.ts';
import type { LoadPlan } from './serverLoadPlan.ts';
import { runServerLoad, type ServerResult } from './serverLoadRun.ts';

export interface ServerLoadOutcome {
  results: ServerResult[];
  sqlite: SqliteInsertResult;
  /** Every server ran to the end and every message checked out. */
  ok: boolean;
}

export async function serverLoad(
  plan: LoadPlan,
  options: { log?: (line: string) => void; print?: (line: string) => void } = {},
): Promise<ServerLoadOutcome> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[bench] ${line}\n`));
  const load = os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), load average ${load} at the start, Node ${process.version}`;
  log('raw SQLite insert baseline');
  const sqlite = measureSqliteInsert(plan.sqliteMs);
  const results: ServerResult[] = [];
  for (const key of plan.servers) results.push(await runServerLoad(key, plan, log));
  printServerLoadReport(plan, machine, results, sqlite, options.print);
  return { results, sqlite, ok: runSucceeded(results) };
}
