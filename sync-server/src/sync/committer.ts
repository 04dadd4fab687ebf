// Group commit: writes from every document wait at most one commit for the next batch, and a
// batch is one transaction (one fsync on SQLite, one round trip per table on Postgres). While
// a commit runs, new writes gather for the next one, so the batch grows with the load. Where the
// commit runs is the target's business: on SQLite it is a worker thread (commitWorker.ts), so
// the fsync never blocks the event loop; on Postgres it is the connection pool. A chain of
// writes to one document (the write path's batches) stays in one batch, so the commit can
// refuse what follows a refused write of it.
import type { Logger } from '../log.ts';
import { metrics, secondsSince } from '../metrics.ts';
import { activeSpanContext, tracedShared } from '../tracing.ts';
import type { SpanContext } from '@opentelemetry/api';
import type { CommitRequest, CommitResult } from './commitRequest.ts';

/** Commits a batch in one transaction; rejects when the database is away. */
export type CommitTarget = (requests: readonly CommitRequest[], now: number) => Promise<CommitResult[]>;

interface Pending {
  request: CommitRequest;
  /** The span of the write waiting for this commit (traces link the batch to it), or null. */
  span: SpanContext | null;
  /** The chain the write belongs to (see commit), or null. */
  chain: object | null;
  resolve: (result: CommitResult) => void;
  reject: (error: unknown) => void;
}

/** A chain's write after one that was not appended: based on an entry that does not exist. */
const BROKEN_CHAIN: CommitResult = { outcome: { ok: false, reason: 'stale' }, entry: null };

/** Largest batch; beyond it, writes wait for the next commit. */
const MAX_BATCH = 512;

export class Committer {
  readonly #target: CommitTarget;
  readonly #logger: Logger;
  #queue: Pending[] = [];
  #running: Promise<void> | null = null;
  /** Batches committed and writes in them, for the bench and metrics. */
  readonly stats = { batches: 0, writes: 0 };

  constructor(target: CommitTarget, logger: Logger) {
    this.#target = target;
    this.#logger = logger;
  }

  /**
   * Commits `request` with the next batch; resolves with its outcome, rejects on a storage fault.
   * Writes to one document each based on the entry of the one before are handed in as one
   * `chain` (any object, the same for all of them, handed in one after another): a chain is
   * never split between two batches, and where one of its writes is not appended, none after it
   * is (see planCommit).
   */
  commit(request: CommitRequest, chain: object | null = null): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, span: activeSpanContext(), chain, resolve, reject });
      // Start on the next turn, so the frames read in this turn join the same batch.
      this.#running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.#drain());
    });
  }

  /** Writes waiting for a commit. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves when every write handed in so far is committed (or failed). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        let size = Math.min(MAX_BATCH, this.#queue.length);
        while (size < this.#queue.length && this.#queue[size]?.chain !== null && this.#queue[size]?.chain === this.#queue[size - 1]?.chain) size += 1;
        const batch = this.#queue.slice(0, size);
        this.#queue = this.#queue.slice(batch.length);
        await this.#commit(batch);
      }
    } finally {
      this.#running = null;
    }
  }

  /** Commits `batch`, answers each write, and returns each write's result (null where it failed). */
  async #commit(batch: Pending[]): Promise<(CommitResult | null)[]> {
    const started = performance.now();
    try {
      const results = await tracedShared(
        'outpost.commitBatch',
        { 'outpost.batch_size': batch.length },
        batch.map((pending) => pending.span),
        () =>
          this.#target(
            batch.map((pending) => pending.request),
            Date.now(),
          ),
      );
      metrics.commitSeconds.observe(secondsSince(started));
      metrics.commitBatchSize.observe(batch.length);
      this.stats.batches += 1;
      this.stats.writes += batch.length;
      batch.forEach((pending, index) => pending.resolve(results[index] as CommitResult));
      return results;
    } catch (error) {
      metrics.commitFailures.inc();
      if (batch.length === 1 || !isDataError(error)) {
        // The database is away or stalled: every write of the batch is refused as "try again".
        for (const pending of batch) pending.reject(error);
        return batch.map(() => null);
      }
      // One bad write must not fail the others: try each on its own. A chain stops at its first
      // write that is not appended; those after it were based on that one's entry.
      this.#logger.warn('a commit batch failed; committing its writes one by one', { size: batch.length, error });
      const broken = new Set<object>();
      const results: (CommitResult | null)[] = [];
      for (const pending of batch) {
        if (pending.chain && broken.has(pending.chain)) {
          pending.resolve(BROKEN_CHAIN);
          results.push(BROKEN_CHAIN);
          continue;
        }
        const [result] = await this.#commit([pending]);
        if (pending.chain && !result?.outcome.ok) broken.add(pending.chain);
        results.push(result ?? null);
      }
      return results;
    }
  }
}

/**
 * An error caused by one write's data, as opposed to the database being away: a constraint
 * (Postgres class 23, SQLite's SQLITE_CONSTRAINT*) or a value the database cannot take (Postgres
 * class 22, "data exception": text with a NUL, a number out of range; SQLite's SQLITE_MISMATCH and
 * SQLITE_TOOBIG).
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (/^2[23]/.test(code) || code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG');
}
