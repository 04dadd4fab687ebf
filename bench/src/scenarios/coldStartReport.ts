// Prints a cold-start result beside its same-run baselines.
import { median, printReport } from '../report/Report.ts';
import type { ColdStartResult } from './coldStartMeasure.ts';

export function coldStartReport(where: string, messages: number, segmentSize: number, r: ColdStartResult): void {
  const memory = { name: 'apply all snapshots from memory', value: r.memoryApplyMs };
  printReport(
    `replica cold start, ${messages.toLocaleString('en')} messages in ${Math.ceil(messages / segmentSize)} segments — ${where}`,
    [`offline, no server; ${r.snapshots} documents stored as snapshots, ${(r.storedBytes / 1e6).toFixed(1)} MB`],
    [
      { name: 'cold start → last 50 messages on screen', value: r.last50Ms, unit: 'ms', baseline: memory },
      { name: 'cold start → fully loaded (+ search index)', value: r.fullMs, unit: 'ms', baseline: memory },
      { name: 'local search, median of 25 queries', value: median(r.searchMs), unit: 'ms', baseline: { name: 'linear scan of bodies', value: median(r.scanMs) } },
      { name: 'bytes stored per message', value: r.storedBytes / messages, unit: 'B', baseline: { name: 'Yjs encoding of segment + order docs', value: r.yjsBytes / messages } },
    ],
  );
}
