// A thread that numbers batches of messages through commits on its own SqliteStorage
// connection, so a test can make several connections commit to the same conversation truly at
// the same time.
import { parentPort, workerData } from 'node:worker_threads';
import { segmentDoc, type ConversationId } from '@outpost/shared-schema';
import type { NewMessage, NumberedMessage } from '../Storage.ts';
import { accepted, commitLatest } from '../testing/contract/context.ts';
import { SqliteStorage } from './SqliteStorage.ts';

/** What the test hands each worker. */
export interface NumberingJob {
  file: string;
  conversationId: ConversationId;
  /** Each batch is one write to segment 0's document, committed on top of what the log holds. */
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
  for (const [index, batch] of job.batches.entries()) {
    const outcome = await commitLatest(
      storage.log,
      {
        doc: segmentDoc(job.conversationId, 0),
        entry: new TextEncoder().encode(`${job.conversationId} ${index}`),
        messages: { conversationId: job.conversationId, segmentSize: 1_000_000, list: batch },
      },
      Date.now(),
    );
    results.push(...accepted(outcome).numbers);
  }
  parentPort?.postMessage(results);
} finally {
  await storage.close();
}
