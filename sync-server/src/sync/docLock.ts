// Serialises the write path per document (judge → commit → apply), so a check made against the
// document still holds when the change is applied. The critical section is one scope, and the
// wait for it has a deadline: a document stuck behind a stalled database refuses new updates
// as "try again" instead of queueing them for ever.
import { retryLater } from './refusals.ts';

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export class DocLocks {
  readonly #held = new Set<string>();
  readonly #waiting = new Map<string, Waiter[]>();

  /** Runs `work` holding `name`'s lock; refuses (retry) when the lock is not free within `deadlineMs`. */
  async with<T>(name: string, deadlineMs: number, work: () => Promise<T>): Promise<T> {
    await this.#acquire(name, deadlineMs);
    try {
      return await work();
    } finally {
      this.#release(name);
    }
  }

  /** Documents whose lock is held or waited for (for tests and metrics). */
  get busy(): number {
    return this.#held.size;
  }

  #acquire(name: string, deadlineMs: number): Promise<void> {
    if (!this.#held.has(name)) {
      this.#held.add(name);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiters = this.#waiting.get(name) ?? [];
      this.#waiting.set(name, waiters);
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          if (waiters.length === 0 && this.#waiting.get(name) === waiters) this.#waiting.delete(name);
          reject(retryLater('internal', 'this conversation is busy on the server; the change will be sent again', 1_000));
        }, deadlineMs),
      };
      waiters.push(waiter);
    });
  }

  #release(name: string): void {
    const waiters = this.#waiting.get(name);
    const next = waiters?.shift();
    if (waiters && waiters.length === 0) this.#waiting.delete(name);
    if (next) next.grant(); // the lock passes on without being released
    else this.#held.delete(name);
  }
}
