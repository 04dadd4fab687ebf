// A thread that numbers batches of messages through its own SqliteStorage connection, so a
// test can make several connections number the same conversation truly at the same time.
import { parentPort, workerData } from 'node:worker_threads';
import type { ConversationId } from '@outpost/shared-schema';
import type { NewMessage, NumberedMessage } from '../Storage.ts';
import { SqliteStorage } from './SqliteStorage.ts';

/** What the test hands each worker. */
export interface NumberingJob {
  file: string;
  conversationId: ConversationId;
  batches: NewMessage[][];
  /** Int32 counter shared by all workers: each starts once all have opened their connection. */
  ready: SharedArrayBuffer;
  workers: number;
}

const job = workerData as NumberingJob;
const storage = new SqliteStorage(job.file);
try {
  const ready = new Int32Array(job.ready);
  Atomics.add(ready, 0, 1);
  Atomics.notify(ready, 0);
  for (let seen = Atomics.load(ready, 0); seen < job.workers; seen = Atomics.load(ready, 0)) Atomics.wait(ready, 0, seen);

  const results: NumberedMessage[] = [];
  for (const batch of job.batches) results.push(...(await storage.numberMessages(job.conversationId, batch, Date.now())));
  parentPort?.postMessage(results);
} finally {
  await storage.close();
}
