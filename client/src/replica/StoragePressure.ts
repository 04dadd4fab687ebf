// Browsers evict or refuse storage when space runs out. This asks for persistent storage,
// watches the quota, and turns a refused write into a status the UI can show, instead of an
// error somewhere in a promise.

/** How close the replica is to the browser's storage quota. */
export type StorageState = 'ok' | 'nearlyFull' | 'full' | 'unknown';

export interface StorageStatus {
  state: StorageState;
  /** Bytes used by this origin, when the browser says. */
  usage?: number;
  /** Bytes this origin may use, when the browser says. */
  quota?: number;
  /** True when the browser promised not to evict the replica; null where there is no such API. */
  persisted: boolean | null;
  /** Changes kept in memory only because the disk refused them; retried every few seconds. */
  unsaved: number;
}

/** Above this share of the quota the state is `nearlyFull`. */
const NEARLY_FULL = 0.9;

interface StorageManagerLike {
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

function storageManager(): StorageManagerLike | undefined {
  return (globalThis.navigator as { storage?: StorageManagerLike } | undefined)?.storage;
}

/** True for the error a browser raises when a write exceeds the quota (Dexie wraps it). */
export function isQuotaError(error: unknown): boolean {
  const e = error as { name?: string; inner?: { name?: string } } | null;
  return e?.name === 'QuotaExceededError' || e?.inner?.name === 'QuotaExceededError';
}

/** Tracks quota and persistence for one replica. */
export class StoragePressure {
  #usage: number | undefined;
  #quota: number | undefined;
  #persisted: boolean | null = null;
  #exceeded = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #listeners = new Set<() => void>();

  /** Asks for persistent storage once, then checks the quota now and every minute. */
  async start(): Promise<void> {
    const storage = storageManager();
    if (storage?.persisted) this.#persisted = await storage.persisted();
    if (storage?.persist && !this.#persisted) this.#persisted = await storage.persist();
    await this.check();
    this.#timer = setInterval(() => void this.check(), 60_000);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Re-reads the quota estimate; a write that succeeds after `exceeded` clears it. */
  async check(): Promise<void> {
    const estimate = await storageManager()?.estimate?.();
    this.#usage = estimate?.usage;
    this.#quota = estimate?.quota;
    this.#exceeded = false;
    this.#changed();
  }

  /** A write was refused for lack of space. */
  exceeded(): void {
    this.#exceeded = true;
    this.#changed();
  }

  status(unsaved: number): StorageStatus {
    const { usage, quota } = { usage: this.#usage, quota: this.#quota };
    let state: StorageState = 'unknown';
    if (this.#exceeded || unsaved > 0) state = 'full';
    else if (usage !== undefined && quota) state = usage / quota >= NEARLY_FULL ? 'nearlyFull' : 'ok';
    return { state, persisted: this.#persisted, unsaved, ...(usage !== undefined ? { usage } : {}), ...(quota !== undefined ? { quota } : {}) };
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
