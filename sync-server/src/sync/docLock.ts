// Serialises validate → log → apply per document, so a check made against the document still
// holds when the update is applied (two senders cannot both "create" the same entry).
export class DocLocks {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #releases = new Map<string, () => void>();

  /** Waits for the document's lock; `release(name)` hands it on. One holder per document. */
  async acquire(name: string): Promise<void> {
    for (;;) {
      const tail = this.#tails.get(name);
      if (!tail) break;
      await tail;
    }
    let release!: () => void;
    this.#tails.set(name, new Promise<void>((resolve) => (release = resolve)));
    this.#releases.set(name, release);
  }

  release(name: string): void {
    const release = this.#releases.get(name);
    if (!release) return;
    this.#releases.delete(name);
    this.#tails.delete(name);
    release();
  }
}
