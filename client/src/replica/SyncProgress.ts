// "Syncing 3 of 12 conversations": how far the background backfill of the replica has got, as a
// live value the UI can show after a reconnect.
import { Derived } from '../live.ts';

export interface SyncProgressValue {
  /** Conversations whose every document has completed the sync handshake. */
  synced: number;
  /** Conversations known (open in this client). */
  total: number;
}

interface Syncable {
  synced(): boolean;
}

/** Counts synced conversations; re-counted on sync events and, while incomplete, twice a second. */
export class SyncProgress {
  readonly live: Derived<SyncProgressValue>;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(conversations: () => Syncable[]) {
    this.live = new Derived(() => {
      const all = conversations();
      return { synced: all.filter((c) => c.synced()).length, total: all.length };
    });
  }

  /** Something that may change the count happened (a document synced, a conversation opened). */
  changed(): void {
    this.live.invalidate();
    // Disconnecting un-syncs documents without an event; poll while there is something to wait for.
    this.#timer ??= setInterval(() => {
      this.live.invalidate();
      const { synced, total } = this.live.get();
      if (synced === total && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }, 500);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
