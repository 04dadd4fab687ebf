// Where the local search index persists between runs: a saved copy of the whole index and a
// journal of the entries changed since, each batch with the document states it covers. A cold
// start loads the copy and replays the journal instead of reading every message again. The
// messages' text is kept apart, one row per message, read only for the hits shown: the saved
// index holds their words, not their text, so it loads in a fraction of the time.
import type { SavedPackedIndex } from './packedIndex.ts';

/** What a hit shows of a message, kept one row per message beside the index. */
export interface SearchText {
  id: string;
  author: string;
  createdAt: number;
  /** The current text (edits applied). */
  body: string;
  /** Attachment names, one a line. */
  files: string;
}

/** What the index holds of one message: its text to find it by, where it is to filter and show it. */
export interface SearchEntry extends SearchText {
  conversationId: string;
  /** The segment (of the conversation) whose document holds it (absent in entries saved before layout 6). */
  segment?: number;
}

/** One batch of changes: entries added or replaced, ids removed, and the documents' states after it. */
export interface SearchJournalBatch {
  put: SearchEntry[];
  remove: string[];
  /** Document name → its state vector (base64) once these changes are in. */
  covered: Record<string, string>;
}

/** A saved copy of the whole index. */
export interface SearchSnapshot {
  /**
   * The index (words and ids, no message text), packed into typed arrays (in the current layout
   * or version 1); or, as saved before packing, as MiniSearch serialises it to JSON.
   */
  index: SavedPackedIndex | string;
  covered: Record<string, string>;
  /** The last journal batch it includes. */
  upTo: number;
}

export interface SavedSearch {
  snapshot: SearchSnapshot | null;
  /**
   * Batches after the snapshot, in order, with their ids; an entry carries its message's text as
   * stored now (an entry whose text is gone was removed by a later batch and is left out).
   */
  journal: (SearchJournalBatch & { id: number })[];
}

/** The replica's side of the search index (IndexedDbReplica implements it). */
export interface SearchStore {
  loadSearch(): Promise<SavedSearch>;
  /**
   * Appends a batch and, in the same transaction, stores the text of the entries put and deletes
   * that of the ids removed. Resolves to its id (0 when the store is closed and kept nothing).
   */
  appendSearch(batch: SearchJournalBatch): Promise<number>;
  /** Replaces the saved copy and drops the journal batches it includes, in one transaction. */
  saveSearch(snapshot: SearchSnapshot): Promise<void>;
  /** The stored text of these messages, in the same order (undefined: none stored). */
  searchTexts(ids: readonly string[]): Promise<(SearchText | undefined)[]>;
  /**
   * The IndexedDB database (of this origin) holding the saved index, at the version it is open
   * at, when another thread may read it there itself (the search worker does, via readSavedSearch).
   */
  readonly savedIn?: { database: string; version: number };
}
