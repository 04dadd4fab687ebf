// Where the local search index persists between runs: a saved copy of the whole index and a
// journal of the entries changed since, each batch with the document states it covers. A cold
// start loads the copy and replays the journal instead of reading every message again.

/** What the index holds of one message (the words of its current text and its file names). */
export interface SearchEntry {
  id: string;
  conversationId: string;
  author: string;
  createdAt: number;
  body: string;
  /** Attachment names, one a line. */
  files: string;
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
  /** The index as MiniSearch serialises it. */
  index: string;
  covered: Record<string, string>;
  /** The last journal batch it includes. */
  upTo: number;
}

export interface SavedSearch {
  snapshot: SearchSnapshot | null;
  /** Batches after the snapshot, in order, with their ids. */
  journal: (SearchJournalBatch & { id: number })[];
}

/** The replica's side of the search index (IndexedDbReplica implements it). */
export interface SearchStore {
  loadSearch(): Promise<SavedSearch>;
  /** Appends a batch; resolves to its id (0 when the store is closed and kept nothing). */
  appendSearch(batch: SearchJournalBatch): Promise<number>;
  /** Replaces the saved copy and drops the journal batches it includes, in one transaction. */
  saveSearch(snapshot: SearchSnapshot): Promise<void>;
}
