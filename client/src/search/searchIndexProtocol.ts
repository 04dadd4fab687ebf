// The messages between WorkerSearchIndex (main thread) and the search worker, and the worker's
// side: it keeps a MiniSearchIndex and answers each request in the order they were sent.
import { openExistingDatabase, readSavedSearch } from '../replica/readSavedSearch.ts';
import { MiniSearchIndex, type IndexQuery } from './SearchIndex.ts';
import type { SavedSearch, SearchEntry } from './SearchStore.ts';

export type SearchIndexRequest =
  | { op: 'load'; from: { database: string; version: number } | { saved: SavedSearch } }
  | { op: 'update'; put: SearchEntry[]; remove: string[] }
  | { op: 'vacuum' }
  | { op: 'search'; query: string; options: IndexQuery }
  | { op: 'serialize' };

/** A reply carries the index's size after the request, so the main thread's `size` follows it. */
export type SearchIndexReply = { id: number; size: number } & ({ result: unknown } | { error: string });

/** The part of a Worker (or of the worker's global scope, or a MessagePort) both sides use. */
export interface MessageEnd {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/**
 * Answers search index requests arriving at `end` (a worker's global scope). `indexedDB` is where
 * the worker reads the saved index itself when asked to.
 */
export function serveSearchIndex(end: MessageEnd, indexedDB: IDBFactory | undefined): void {
  const index = new MiniSearchIndex();
  let queue = Promise.resolve();
  const answer = async (request: SearchIndexRequest): Promise<unknown> => {
    switch (request.op) {
      case 'load':
        return index.restore('saved' in request.from ? request.from.saved : await readFrom(indexedDB, request.from));
      case 'update':
        return index.update(request.put, request.remove);
      case 'vacuum':
        return index.vacuum();
      case 'search':
        return index.search(request.query, request.options);
      case 'serialize':
        return index.serialize();
      default:
        return unreachable(request);
    }
  };
  end.addEventListener('message', (event) => {
    const { id, request } = event.data as { id: number; request: SearchIndexRequest };
    queue = queue.then(async () => {
      let reply: SearchIndexReply;
      try {
        reply = { id, size: index.size, result: await answer(request) };
        reply.size = index.size;
      } catch (error) {
        reply = { id, size: index.size, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
      end.postMessage(reply);
    });
  });
}

async function readFrom(indexedDB: IDBFactory | undefined, from: { database: string; version: number }): Promise<SavedSearch> {
  if (!indexedDB) throw new Error('this worker has no IndexedDB');
  const db = await openExistingDatabase(indexedDB, from.database, from.version);
  try {
    return await readSavedSearch(db);
  } finally {
    db.close();
  }
}

// Not shared-schema's: the worker's bundle stays free of its schemas.
function unreachable(request: never): never {
  throw new Error(`unknown search index request ${JSON.stringify(request)}`);
}
