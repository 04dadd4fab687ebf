// Worker threads that write to the SQLite file on their own connections, so the fsync of
// `synchronous=FULL` never blocks the node's event loop: one commits batches (while it runs, the
// next batch gathers), the other compacts documents' logs (merging a base with its entries takes
// milliseconds of CPU, which neither the event loop nor the commits should wait for; its write is
// one short transaction, and SQLite's busy timeout lets each wait for the other's) and puts new
// messages into the full-text index, a second's worth at a time (see SqliteSearch.indexPending).
// The node talks to them through `sqliteCommitTarget`.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { INDEX_BATCH, SqliteStorage } from '@outpost/storage';
import type { CommitTarget } from './committer.ts';
import { commitRequests, type CommitRequest, type CommitResult } from './commitRequest.ts';
import { mergeCollected } from './compaction.ts';

type Request = { id: number; requests: CommitRequest[]; now: number } | { id: number; compact: string } | { id: number; indexSearch: true };
type Reply = { id: number; results: CommitResult[] } | { id: number; error: { message: string; code?: string } };

/** How often new messages are put into the full-text index (a search indexes what is left first). */
const INDEX_EVERY_MS = 1_000;

/** One worker and the requests waiting for its replies; a crashed worker is replaced on the next request. */
function workerChannel(file: string, role: string): { ask(request: Request): Promise<CommitResult[]>; close(): Promise<void> } {
  let worker: Worker | null = null;
  const waiting = new Map<number, { resolve: (results: CommitResult[]) => void; reject: (error: Error) => void }>();
  const start = (): Worker => {
    const started = new Worker(new URL(import.meta.url), { workerData: { file } });
    started.on('message', (reply: Reply) => {
      const pending = waiting.get(reply.id);
      if (!pending) return;
      waiting.delete(reply.id);
      if ('error' in reply) pending.reject(Object.assign(new Error(reply.error.message), reply.error.code ? { code: reply.error.code } : {}));
      else pending.resolve(reply.results);
    });
    // A crashed worker fails what it held (those writes are refused as "try again") and is replaced.
    const fail = (error: Error) => {
      for (const pending of waiting.values()) pending.reject(error);
      waiting.clear();
      if (worker === started) worker = null;
    };
    started.on('error', fail);
    started.on('exit', (code) => fail(new Error(`the ${role} worker exited (${code})`)));
    return started;
  };
  // Started now, not on the first request, so its memory is part of the node from the start.
  worker = start();
  return {
    ask: (request) =>
      new Promise((resolve, reject) => {
        worker ??= start();
        waiting.set(request.id, { resolve, reject });
        worker.postMessage(request);
      }),
    close: async () => {
      const running = worker;
      worker = null;
      if (running) await running.terminate();
    },
  };
}

/**
 * The node's side: a commit target and a compactor, each a worker on `file`, the second also
 * indexing new messages for search every INDEX_EVERY_MS while messages are committed, and when
 * `indexSearch()` asks (before a search, so the event loop does not index what waits). A failure
 * of the timer's turn goes to `indexFailed`; the queue waits for the next turn. `close()` ends them.
 */
export function sqliteCommitTarget(
  file: string,
  indexFailed: (error: unknown) => void = () => {},
): { commit: CommitTarget; compact(doc: string): Promise<void>; indexSearch(): Promise<void>; close(): Promise<void> } {
  const commits = workerChannel(file, 'commit');
  const compactions = workerChannel(file, 'compaction');
  let next = 0;
  let messagesSinceIndex = false;
  /** The last turn asked for; a new one starts after it, so it sees everything committed before it was asked. */
  let indexing: Promise<void> | null = null;
  const indexSearch = (): Promise<void> => {
    const turn = (indexing ?? Promise.resolve()).catch(() => undefined).then(async () => {
      messagesSinceIndex = false;
      await compactions.ask({ id: next++, indexSearch: true });
    });
    indexing = turn;
    const forget = () => {
      if (indexing === turn) indexing = null;
    };
    turn.then(forget, forget);
    return turn;
  };
  const index = setInterval(() => {
    if (messagesSinceIndex && !indexing) indexSearch().catch(indexFailed);
  }, INDEX_EVERY_MS);
  index.unref();
  return {
    commit: async (requests, now) => {
      const results = await commits.ask({ id: next++, requests: requests.map(ownBytes), now });
      // Once committed: an index turn before that would find nothing of this batch queued yet.
      if (requests.some((request) => (request.messages?.list.length ?? 0) > 0)) messagesSinceIndex = true;
      return results;
    },
    compact: async (doc) => {
      await compactions.ask({ id: next++, compact: doc });
    },
    indexSearch,
    close: async () => {
      clearInterval(index);
      await Promise.all([commits.close(), compactions.close()]);
    },
  };
}

/**
 * The request with an update that owns its bytes: a frame's update is a view into the socket's
 * receive buffer, and posting a view copies the whole buffer it sits in (tens of KiB) to the worker.
 */
function ownBytes(request: CommitRequest): CommitRequest {
  const { update } = request;
  return update && update.byteLength !== update.buffer.byteLength ? { ...request, update: update.slice() } : request;
}

// The worker's side.
if (!isMainThread && parentPort) {
  const port = parentPort;
  const storage = new SqliteStorage((workerData as { file: string }).file);
  port.on('message', (request: Request) => {
    const { id } = request;
    const work =
      'compact' in request
        ? storage.log.compact(request.compact, mergeCollected).then(() => [])
        : 'indexSearch' in request
          ? indexAll(storage)
          : commitRequests(storage.log, request.requests, request.now);
    work.then(
      (results) => port.postMessage({ id, results } satisfies Reply),
      (error: unknown) => port.postMessage({ id, error: { message: (error as Error).message, code: (error as { code?: string }).code } } satisfies Reply),
    );
  });
}

/**
 * Indexes the queued messages, a batch per transaction (commits get the write lock between
 * them), until a batch comes back short: what arrives meanwhile waits for the next turn.
 */
async function indexAll(storage: SqliteStorage): Promise<CommitResult[]> {
  while (storage.search.indexPending() === INDEX_BATCH) await new Promise((resolve) => setImmediate(resolve));
  return [];
}
