// Makes a deletion real in storage. The write path has already replaced the message's entry with
// a tombstone (so Yjs dropped its text from the document); what is left is every other place the
// text was written: the read model (its body), the update log (the entries that carried the
// message, its edits, and the bytes of updates accepted before the deletion) and the database's
// freed space. Run shortly after the deletion, coalesced across deletions.
import type { Storage } from '@outpost/storage';
import type { Logger } from '../log.ts';
import { InFlight } from './inFlight.ts';

/** Deletions within this long are erased together. */
const COALESCE_MS = 50;

export interface ErasureParts {
  /** Writes what is pending in the message read model (a deleted message's body goes there). */
  flushProjection(): Promise<void>;
  /** Compacts a document's log now: the new base holds what Yjs kept, the entries go. */
  compact(documentName: string): Promise<void>;
  storage: Pick<Storage, 'scrub'>;
  log: Logger;
}

export class Erasure {
  readonly #parts: ErasureParts;
  readonly #pending = new Set<string>();
  readonly #work = new InFlight();
  #timer: NodeJS.Timeout | null = null;

  constructor(parts: ErasureParts) {
    this.#parts = parts;
  }

  /** A message of `documentName` was deleted: erase what is left of it soon. */
  deleted(documentName: string): void {
    this.#pending.add(documentName);
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.#work.track(this.#run());
    }, COALESCE_MS);
  }

  /** Resolves when every deletion reported so far is erased (for shutdown and tests). */
  async settled(): Promise<void> {
    while (this.#timer || this.#pending.size > 0) {
      if (this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = null;
        void this.#work.track(this.#run());
      }
      await this.#work.settled();
    }
    await this.#work.settled();
  }

  async #run(): Promise<void> {
    const documents = [...this.#pending];
    this.#pending.clear();
    if (documents.length === 0) return;
    try {
      await this.#parts.flushProjection();
      for (const name of documents) await this.#parts.compact(name);
      await this.#parts.storage.scrub();
    } catch (error) {
      // The documents hold no text already; the next deletion's run (or compaction) finishes this.
      this.#parts.log.error('could not finish erasing deleted messages from storage', { documents, error });
    }
  }
}
