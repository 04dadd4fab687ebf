// The search worker's entry module (`@outpost/client/search-worker`): an app spawns it as a
// module worker and passes it to OutpostClient as `searchWorker`.
import { serveSearchIndex, type MessageEnd } from './searchIndexProtocol.ts';

serveSearchIndex(globalThis as unknown as MessageEnd, globalThis.indexedDB);
