// The inverted index behind local search, as a small interface: in this thread (MiniSearchIndex)
// or in a Web Worker (WorkerSearchIndex), so that a browser loads its saved copy beside the main
// thread's work instead of in the middle of it. Either one takes operations in order.
import MiniSearch from 'minisearch';
import { packIndex, unpackIndex, type PackedIndex } from './packedIndex.ts';
import type { SavedSearch, SearchEntry, SearchStore } from './SearchStore.ts';

/** A message the index matched: enough to filter it and find its text. */
export interface IndexHit {
  id: string;
  conversationId: string;
  /** The segment whose document holds it (absent in entries saved before layout 6). */
  segment: number | undefined;
  score: number;
  terms: string[];
}

/** What the loaded saved index covers (the journal replayed). */
export interface LoadedIndex {
  /** Document name → the state vector (base64) the index reflects. */
  covered: Record<string, string>;
  /** The last journal batch included. */
  upTo: number;
  /** Journal batches replayed on top of the saved copy. */
  batches: number;
}

export interface IndexQuery {
  /** Only this conversation. */
  conversationId?: string;
  /** At most this many hits, best first. */
  limit: number;
}

export interface SearchIndex {
  /** Messages indexed (for a worker, as of its last reply). */
  readonly size: number;
  /** Loads the store's saved copy and journal; on failure the index is left empty. */
  load(store: SearchStore): Promise<LoadedIndex>;
  /** Replaces the entries put (adding new ones) and drops the ids removed; unknown ids are ignored. */
  update(put: SearchEntry[], remove: string[]): void;
  /** Drops removed messages' words for good (MiniSearch keeps them until vacuumed). */
  vacuum(): Promise<void>;
  search(query: string, options: IndexQuery): Promise<IndexHit[]>;
  /** The whole index, packed (a SearchSnapshot's `index`). */
  serialize(): Promise<PackedIndex>;
  close(): void;
}

const OPTIONS = {
  fields: ['body', 'files'],
  // Only what filtering and finding the text need: the saved index loads in proportion to it.
  storeFields: ['conversationId', 'segment'],
  searchOptions: { prefix: true, combineWith: 'AND' as const },
};

/** The index in this thread. */
export class MiniSearchIndex implements SearchIndex {
  #index = new MiniSearch<SearchEntry>(OPTIONS);

  get size(): number {
    return this.#index.documentCount;
  }

  async load(store: SearchStore): Promise<LoadedIndex> {
    return this.restore(await store.loadSearch());
  }

  /** Loads a saved copy and replays its journal, in one go (a worker's load, or this thread's). */
  restore(saved: SavedSearch): LoadedIndex {
    try {
      const index = saved.snapshot?.index;
      // In one go: the async variant yields between chunks and a cold start's document loads starve it.
      if (typeof index === 'string') this.#index = MiniSearch.loadJSON<SearchEntry>(index, OPTIONS);
      else if (index) this.#index = unpackIndex<SearchEntry>(index, OPTIONS);
      let upTo = saved.snapshot?.upTo ?? 0;
      const covered = { ...saved.snapshot?.covered };
      for (const batch of saved.journal) {
        this.update(batch.put, batch.remove);
        Object.assign(covered, batch.covered);
        upTo = Math.max(upTo, batch.id);
      }
      return { covered, upTo, batches: saved.journal.length };
    } catch (error) {
      this.#index = new MiniSearch<SearchEntry>(OPTIONS);
      throw error;
    }
  }

  update(put: SearchEntry[], remove: string[]): void {
    for (const id of remove) if (this.#index.has(id)) this.#index.discard(id);
    for (const entry of put) {
      if (this.#index.has(entry.id)) this.#index.discard(entry.id);
      this.#index.add(entry);
    }
  }

  async vacuum(): Promise<void> {
    await this.#index.vacuum();
  }

  async search(query: string, options: IndexQuery): Promise<IndexHit[]> {
    const { conversationId } = options;
    const filter = conversationId ? (hit: { [key: string]: unknown }) => hit.conversationId === conversationId : undefined;
    return this.#index
      .search(query, filter ? { filter } : {})
      .slice(0, options.limit)
      .map((r) => ({ id: r.id as string, conversationId: r.conversationId as string, segment: typeof r.segment === 'number' ? r.segment : undefined, score: r.score, terms: r.terms }));
  }

  async serialize(): Promise<PackedIndex> {
    return packIndex(this.#index);
  }

  close(): void {}
}
