// Cold start from a replica of N messages (no network) in Node, on fake-indexeddb.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { measureColdStart, populate } from './coldStartMeasure.ts';
import { coldStartReport } from './coldStartReport.ts';

export async function replicaColdStart(messages: number, segmentSize: number): Promise<void> {
  const factory = { indexedDB: new IDBFactory(), IDBKeyRange };
  await populate(messages, segmentSize, factory);
  // fake-indexeddb completes requests from setImmediate; polling there too interleaves with them.
  const result = await measureColdStart(messages, segmentSize, performance.now(), () => new Promise((resolve) => setImmediate(resolve)), factory);
  coldStartReport(`Node, fake-indexeddb (slower than a browser's IndexedDB)`, messages, segmentSize, result);
}
