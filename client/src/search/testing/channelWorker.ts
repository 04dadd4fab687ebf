// A search worker stand-in for Node tests, which have no Web Workers: the worker's protocol
// handler (serveSearchIndex, what searchWorker.ts runs on a worker's global scope) at the far end
// of a real MessageChannel, so requests and replies are structured-cloned and delivered
// asynchronously, in order, as between threads.
import { MessageChannel } from 'node:worker_threads';
import { serveSearchIndex, type MessageEnd } from '../searchIndexProtocol.ts';
import type { SearchWorker } from '../WorkerSearchIndex.ts';

/** `indexedDB` is what the "worker" reads the saved index from; `die()` fires the worker's 'error'. */
export function channelWorker(indexedDB?: IDBFactory): SearchWorker & { die(): void; terminate(): void } {
  const { port1, port2 } = new MessageChannel();
  serveSearchIndex(port2 as unknown as MessageEnd, indexedDB);
  port2.start();
  const errors = new EventTarget();
  return {
    postMessage: (message) => port1.postMessage(message),
    addEventListener: (type, listener) => {
      if (type === 'message') port1.addEventListener('message', (event) => listener(event as unknown as { data: unknown }));
      else errors.addEventListener(type, (event) => listener(event as unknown as { data?: unknown }));
      port1.start();
    },
    terminate: () => {
      port1.close();
      port2.close();
    },
    die: () => errors.dispatchEvent(new Event('error')),
  };
}
