// The user's writes that the server has not acknowledged yet, listed for the UI ("waiting for
// 2 minutes") and kept in the replica beside the document updates that carry them.
import { Derived, type Live } from '../live.ts';
import type { ReplicaPersistence } from './DocStore.ts';
import type { PendingOperation } from './PendingOperation.ts';

/** A pending operation as the UI lists it. */
export interface OutboxEntry extends PendingOperation {
  /** How long it has waited, in ms, when the list was computed. */
  waitedMs: number;
  /** Made by another tab of this user (that tab settles it). */
  otherTab: boolean;
  /** Why it will not reach the server (see OutpostClient.failedWork). */
  failure?: string;
}

/** Decides whether the server has an operation; the client knows how (seq, acknowledgement). */
export type SettledCheck = (operation: PendingOperation) => boolean;

/**
 * The pending operations of one client: those found in the replica at start (written by an
 * earlier run or another tab, and so already in the documents as they load), the ones this
 * client records, and those other tabs announce.
 */
export class Outbox {
  readonly #persistence: ReplicaPersistence;
  readonly #tab: string;
  readonly #entries = new Map<string, PendingOperation>();
  /** Operations this client may settle: its own and those inherited from earlier runs. */
  readonly #settleable = new Set<string>();
  readonly #live: Derived<OutboxEntry[]>;
  readonly #onSettled: (keys: string[]) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #check: SettledCheck = () => false;
  #stopped = false;

  constructor(persistence: ReplicaPersistence, tab: string, onSettled: (keys: string[]) => void = () => {}) {
    this.#persistence = persistence;
    this.#tab = tab;
    this.#onSettled = onSettled;
    this.#live = new Derived(() => {
      const now = Date.now();
      return [...this.#entries.values()]
        .sort((a, b) => a.at - b.at)
        .map((op) => ({ ...op, waitedMs: now - op.at, otherTab: op.tab !== this.#tab && !this.#settleable.has(op.key) }));
    });
  }

  /** Loads what earlier runs left pending, then settles operations as `check` confirms them. */
  async start(check: SettledCheck): Promise<void> {
    this.#check = check;
    const pending = await this.#persistence.pendingOperations();
    // Stopped while the replica was read (the app closed as it started): no timer outlives it.
    if (this.#stopped) return;
    for (const op of pending) {
      this.#entries.set(op.key, op);
      this.#settleable.add(op.key);
    }
    this.#live.invalidate();
    this.#timer = setInterval(() => this.settle(), 250);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** An operation this client just recorded in the replica. */
  recorded(op: PendingOperation): void {
    this.#entries.set(op.key, op);
    this.#settleable.add(op.key);
    this.#live.invalidate();
  }

  /** Another tab recorded an operation (it settles it; we only list it). */
  announced(op: PendingOperation): void {
    if (this.#entries.has(op.key)) return;
    this.#entries.set(op.key, op);
    this.#live.invalidate();
  }

  /** Another tab settled operations. */
  forget(keys: readonly string[]): void {
    let changed = false;
    for (const key of keys) changed = this.#entries.delete(key) || changed;
    if (changed) this.#live.invalidate();
  }

  /** Settles every operation `check` confirms; called on a timer while any is pending. */
  settle(): void {
    const done: string[] = [];
    for (const op of this.#entries.values()) if (this.#settleable.has(op.key) && this.#check(op)) done.push(op.key);
    if (done.length === 0) return;
    for (const key of done) {
      this.#entries.delete(key);
      this.#settleable.delete(key);
    }
    this.#live.invalidate();
    this.#onSettled(done);
    void this.#persistence.settle(done).catch((error: unknown) => console.error('outpost outbox: cannot settle', error));
  }

  /**
   * Takes out the operations that will never reach the server (the user lost access): they
   * leave the replica's pending list and are returned for the caller to report.
   */
  fail(match: (op: PendingOperation) => boolean): OutboxEntry[] {
    const now = Date.now();
    const failed = [...this.#entries.values()].filter(match);
    if (failed.length === 0) return [];
    for (const op of failed) {
      this.#entries.delete(op.key);
      this.#settleable.delete(op.key);
    }
    this.#live.invalidate();
    const keys = failed.map((op) => op.key);
    this.#onSettled(keys);
    void this.#persistence.settle(keys).catch((error: unknown) => console.error('outpost outbox: cannot drop failed work', error));
    return failed.map((op) => ({ ...op, waitedMs: now - op.at, otherTab: op.tab !== this.#tab }));
  }

  /** The pending operations, oldest first. */
  list(): Live<OutboxEntry[]> {
    return this.#live;
  }

  get size(): number {
    return this.#entries.size;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
  }
}
