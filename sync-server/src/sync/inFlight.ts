// Work started by a hook or a timer and not finished yet, so shutdown can wait for it before the
// storage underneath goes away.
export class InFlight {
  readonly #work = new Set<Promise<unknown>>();

  /** Remembers `work` until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    void work.finally(() => this.#work.delete(work)).catch(() => undefined);
    return work;
  }

  /** Resolves when nothing is in flight (work started meanwhile is waited for too). */
  async settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
  }
}
