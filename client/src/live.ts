// A value that changes over time and tells its subscribers; what the SDK's live queries return.

export interface Live<T> {
  /** The current value. */
  get(): T;
  /** Calls `listener` now and after every change; returns the function that unsubscribes. */
  subscribe(listener: (value: T) => void): () => void;
}

/**
 * A live value recomputed from sources that signal changes. Recomputation is lazy and batched
 * per microtask, so a burst of Yjs events produces one notification.
 */
export class Derived<T> implements Live<T> {
  readonly #compute: () => T;
  readonly #listeners = new Set<(value: T) => void>();
  #value: T | undefined;
  #stale = true;
  #scheduled = false;

  constructor(compute: () => T) {
    this.#compute = compute;
  }

  get(): T {
    if (this.#stale) {
      this.#value = this.#compute();
      this.#stale = false;
    }
    return this.#value as T;
  }

  /** Marks the value stale and notifies subscribers once, after the current microtask. */
  invalidate = (): void => {
    this.#stale = true;
    if (this.#scheduled || this.#listeners.size === 0) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      const value = this.get();
      for (const listener of [...this.#listeners]) listener(value);
    });
  };

  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    listener(this.get());
    return () => this.#listeners.delete(listener);
  }
}
