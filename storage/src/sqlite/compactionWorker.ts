// A thread that appends to a document and compacts it through its own SqliteStorage connection
// while the main thread waits inside a compaction of its own, so a test can make an older
// compaction write its base after a newer one — what two processes on one file can do.
import { workerData } from 'node:worker_threads';
import * as Y from 'yjs';
import { accepted, commitOne } from '../testing/contract/context.ts';
import { SqliteStorage } from './SqliteStorage.ts';

/** What the test hands the worker. */
export interface CompactionJob {
  file: string;
  doc: string;
  /** Appended on top of what the log holds, then compacted with everything before them. */
  updates: Uint8Array[];
  /** Int32 flags: [0] the test sets to start the worker, [1] the worker sets when done. */
  signals: SharedArrayBuffer;
}

const WAIT_MS = 30_000;

const job = workerData as CompactionJob;
const signals = new Int32Array(job.signals);
const storage = new SqliteStorage(job.file);
try {
  if (Atomics.wait(signals, 0, 0, WAIT_MS) === 'timed-out') throw new Error('the compaction worker was never started');
  const from = (await storage.log.load(job.doc)).version;
  for (const [index, update] of job.updates.entries()) accepted(await commitOne(storage.log, { doc: job.doc, base: from + index, entry: update }));
  await storage.log.compact(job.doc, (parts) => Y.mergeUpdates(parts));
} finally {
  await storage.close();
  Atomics.store(signals, 1, 1);
  Atomics.notify(signals, 1);
}
