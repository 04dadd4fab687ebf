// Group commit: writes from every document wait at most one commit for the next batch, and a
// batch is one transaction (one fsync on SQLite, one round trip per table on Postgres). While
// a commit runs, new writes gather for the next one, so the batch grows with the load.
import type { CommitOutcome, LogWrite, UpdateLog } from '@outpost/storage';
import type { Logger } from '../log.ts';

interface Pending {
  write: LogWrite;
  resolve: (outcome: CommitOutcome) => void;
  reject: (error: unknown) => void;
}

/** Largest batch; beyond it, writes wait for the next commit. */
const MAX_BATCH = 512;

export class Committer {
  readonly #log: UpdateLog;
  readonly #logger: Logger;
  #queue: Pending[] = [];
  #running: Promise<void> | null = null;
  /** Batches committed and writes in them, for the bench and metrics. */
  readonly stats = { batches: 0, writes: 0 };

  constructor(log: UpdateLog, logger: Logger) {
    this.#log = log;
    this.#logger = logger;
  }

  /** Commits `write` with the next batch; resolves with its outcome, rejects on a storage fault. */
  commit(write: LogWrite): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ write, resolve, reject });
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
        const batch = this.#queue.slice(0, MAX_BATCH);
        this.#queue = this.#queue.slice(batch.length);
        await this.#commit(batch);
      }
    } finally {
      this.#running = null;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    try {
      const outcomes = await this.#log.commit(batch.map((pending) => pending.write), Date.now());
      this.stats.batches += 1;
      this.stats.writes += batch.length;
      batch.forEach((pending, index) => pending.resolve(outcomes[index] as CommitOutcome));
    } catch (error) {
      if (batch.length === 1 || !isDataError(error)) {
        // The database is away or stalled: every write of the batch is refused as "try again".
        for (const pending of batch) pending.reject(error);
        return;
      }
      // One bad write must not fail the others: try each on its own.
      this.#logger.warn('a commit batch failed; committing its writes one by one', { size: batch.length, error });
      for (const pending of batch) await this.#commit([pending]);
    }
  }
}

/** An error caused by one write's data (a constraint), as opposed to the database being away. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('23') || code.startsWith('SQLITE_CONSTRAINT'));
}
