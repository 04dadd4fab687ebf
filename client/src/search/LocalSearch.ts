// Full-text search over the local replica, offline. MiniSearch keeps an in-memory inverted
// index that is updated message by message as segment documents change (load, sync, edits,
// deletions), so a search never scans the documents. With a SearchStore the index persists in
// the replica, saved as a copy plus a journal of changes: a cold start loads it instead of
// reading every message, and re-reads only documents whose state differs from what it covers.
// The index keeps no message text: a hit's text is read from its document when that is in
// memory, otherwise from the store's text rows, for the hits asked for only. In a browser the
// index lives in a Web Worker (SearchIndex.ts), so its saved copy loads beside the main thread.
import * as Y from 'yjs';
import { parseDocName, readMessage, segmentDoc, segmentMaps, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import { PERSISTENCE_ORIGIN } from '../replica/DocStore.ts';
import { MiniSearchIndex, type SearchIndex } from './SearchIndex.ts';
import type { SearchEntry, SearchStore, SearchText } from './SearchStore.ts';
import { WorkerSearchIndex, type SearchWorker } from './WorkerSearchIndex.ts';

/** One message that matches a search. */
export interface SearchHit {
  messageId: MessageId;
  conversationId: ConversationId;
  author: UserId;
  createdAt: number;
  /** The current text (edits applied). */
  body: string;
  /** Names of the files the message carries (found by name too). */
  files: string[];
  /** Relevance: higher is better. */
  score: number;
  /** The words of the query the message matched (after prefix and fuzzy matching). */
  terms: string[];
}

export interface SearchOptions {
  /** Only this conversation. */
  conversationId?: ConversationId;
  /** At most this many hits, best first (default 50). */
  limit?: number;
}

/** Journal batches after which the saved copy is replaced (its cost is spread over this many). */
const SNAPSHOT_AFTER_BATCHES = 200;
/** Entries changed after which the saved copy is replaced. */
const SNAPSHOT_AFTER_ENTRIES = 20_000;
/** How long changes gather before they are written as one journal batch. */
const FLUSH_AFTER_MS = 100;
/** How long a batch the store refused (a full disk) waits before it is written again. */
const RETRY_AFTER_MS = 5_000;

export interface LocalSearchOptions {
  /** Where the index persists; without it, it is built from the documents each run. */
  store?: SearchStore;
  /** Resolves once the replica's copy of a document is applied (DocStore.loaded). */
  loaded?: (docName: string) => Promise<unknown>;
  /** The saved index loads after this resolves (what the user sees first comes first). */
  after?: () => Promise<unknown>;
  /**
   * Starts the worker that holds the index (a module worker running `@outpost/client/search-worker`);
   * without it the index is in this thread. If the worker fails, the index moves to this thread.
   */
  worker?: () => SearchWorker;
}

/** Finds messages by their words in every segment document opened in this client. */
export class LocalSearch {
  #index: SearchIndex;
  /** Resolves once the index, moved to this thread after its worker failed, is complete again. */
  #rebuilt: Promise<void> = Promise.resolve();
  /** One set per search awaiting its texts: ids removed meanwhile, left out of its hits. */
  readonly #searching = new Set<Set<string>>();
  /** True once the saved index is loaded (or there is none): changes reach the index from then on. */
  #restored: boolean;
  readonly #store: SearchStore | undefined;
  readonly #loaded: (docName: string) => Promise<unknown>;
  /** Resolves once the saved index (if any) is in memory. */
  readonly #ready: Promise<void>;
  /** Document name → the state vector (base64) the index reflects. */
  readonly #covered = new Map<string, string>();
  /** Segment documents watched now, by name: a hit's text is read from there when it is in memory. */
  readonly #watched = new Map<string, Y.Doc>();
  /** Changes not yet written to the store: id → entry (null: removed); documents whose coverage moved. */
  readonly #unsaved = new Map<string, SearchEntry | null>();
  readonly #unsavedDocs = new Map<string, Y.Doc>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #lastBatch = 0;
  #batchesSinceSnapshot = 0;
  #entriesSinceSnapshot = 0;
  #closed = false;
  /** Documents read in full this run (their state differed from the saved index's). */
  #documentsRead = 0;

  constructor(options: LocalSearchOptions = {}) {
    this.#store = options.store;
    this.#index = options.worker ? this.#startWorker(options.worker) : new MiniSearchIndex();
    this.#restored = !options.store;
    this.#loaded = options.loaded ?? (() => Promise.resolve());
    const store = this.#store;
    const after = options.after ?? (() => Promise.resolve());
    this.#ready = store
      ? Promise.resolve()
          .then(after)
          .catch((error: unknown) => console.error('outpost search: waiting to load the saved index', error))
          .then(() => this.#restore(store))
      : Promise.resolve();
  }

  #startWorker(start: () => SearchWorker): SearchIndex {
    try {
      return new WorkerSearchIndex(start(), (error) => this.#fallBack(error));
    } catch (error) {
      console.error('outpost search: cannot start the search worker; the index is kept on this thread', error);
      return new MiniSearchIndex();
    }
  }

  async #restore(store: SearchStore): Promise<void> {
    const index = this.#index;
    try {
      const loaded = await index.load(store);
      for (const [name, sv] of Object.entries(loaded.covered)) this.#covered.set(name, sv);
      this.#lastBatch = loaded.upTo;
      this.#batchesSinceSnapshot = loaded.batches;
    } catch (error) {
      // Closed meanwhile (signed out, the session ran out): its replica is closed too.
      if (this.#closed) return;
      // Its worker failed: the index moved to this thread, which loads it again.
      if (this.#index !== index) return this.#restore(store);
      // The documents still hold every message: start empty and read them as they open.
      console.error('outpost search: the saved index cannot be read; it is built again from the replica', error);
      this.#covered.clear();
    }
    this.#restored = true;
  }

  /**
   * The worker stopped: the index moves to this thread. Before the saved index was loaded, nothing
   * reached the worker yet and #restore loads it here; after, the saved copy and journal load
   * again and every watched document is read in full (the changes not saved yet are there).
   */
  #fallBack(error: Error): void {
    console.error('outpost search: the search worker failed; the index is kept on this thread', error);
    const index = new MiniSearchIndex();
    this.#index = index;
    const store = this.#store;
    if (store && !this.#restored) return;
    this.#rebuilt = (async () => {
      if (store) {
        try {
          await index.load(store);
        } catch (loadError) {
          console.error('outpost search: the saved index cannot be read; it is built again from the documents', loadError);
        }
      }
      for (const [docName, doc] of this.#watched) {
        const name = parseDocName(docName);
        if (name?.kind !== 'segment') continue;
        const { put, remove } = entriesOf(doc, name.conversationId, name.segment, segmentMaps(doc).messages.keys());
        index.update(put, remove);
      }
      const put: SearchEntry[] = [];
      const remove: string[] = [];
      for (const [id, entry] of this.#unsaved) {
        if (entry) put.push(entry);
        else remove.push(id);
      }
      index.update(put, remove);
    })();
  }

  /** Resolves once everything the replica's saved index holds is searchable. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Number of messages indexed. */
  get size(): number {
    return this.#index.size;
  }

  /** Segment documents read in full this run because the saved index did not cover their state. */
  get documentsRead(): number {
    return this.#documentsRead;
  }

  /**
   * Keeps the index in step with a segment document from now on (its current content first).
   * Other documents are ignored. Returns the function that stops watching.
   */
  watch(docName: string, doc: Y.Doc): () => void {
    const name = parseDocName(docName);
    if (name?.kind !== 'segment') return () => {};
    const { conversationId, segment } = name;
    const maps = segmentMaps(doc);
    this.#watched.set(docName, doc);
    let checked = !this.#store;
    const waiting = new Set<string>();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one handler for maps of three value types
    const onChange = (event: Y.YMapEvent<any>) => {
      // What the replica loads is covered by the saved index, or read in full below.
      if (this.#store && event.transaction.origin === PERSISTENCE_ORIGIN) return;
      if (!checked) for (const key of event.keysChanged) waiting.add(key);
      else this.#reindex(docName, conversationId, segment, doc, event.keysChanged);
    };
    maps.messages.observe(onChange);
    maps.edits.observe(onChange);
    maps.deletions.observe(onChange);
    if (checked) this.#reindex(docName, conversationId, segment, doc, maps.messages.keys());
    else {
      void Promise.all([this.#ready, this.#loaded(docName)]).then(() => {
        if (this.#closed) return;
        checked = true;
        if (this.#covered.get(docName) !== stateOf(doc)) {
          this.#documentsRead += 1;
          this.#reindex(docName, conversationId, segment, doc, maps.messages.keys());
        } else if (waiting.size > 0) this.#reindex(docName, conversationId, segment, doc, waiting);
        waiting.clear();
      });
    }
    return () => {
      if (this.#watched.get(docName) === doc) this.#watched.delete(docName);
      maps.messages.unobserve(onChange);
      maps.edits.unobserve(onChange);
      maps.deletions.unobserve(onChange);
    };
  }

  #reindex(docName: string, conversationId: ConversationId, segment: number, doc: Y.Doc, ids: Iterable<string>): void {
    const { put, remove } = entriesOf(doc, conversationId, segment, ids);
    for (const id of remove) {
      this.#unsaved.set(id, null);
      for (const removed of this.#searching) removed.add(id);
    }
    for (const entry of put) {
      this.#unsaved.set(entry.id, entry);
      for (const removed of this.#searching) removed.delete(entry.id);
    }
    this.#index.update(put, remove);
    if (!this.#store) return;
    this.#unsavedDocs.set(docName, doc);
    this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_AFTER_MS);
  }

  /** Writes the changes gathered so far as one journal batch; now and then a fresh saved copy. */
  #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const store = this.#store;
    if (!store || (this.#unsaved.size === 0 && this.#unsavedDocs.size === 0)) return this.#writing;
    // The batch is taken when its turn to be written comes, so a batch refused before it (a full
    // disk) can be carried into it, under what changed since.
    this.#writing = this.#writing.then(() => this.#writeBatch(store));
    return this.#writing;
  }

  async #writeBatch(store: SearchStore): Promise<void> {
    if (this.#unsaved.size === 0 && this.#unsavedDocs.size === 0) return;
    const entries = new Map(this.#unsaved);
    const docs = new Map(this.#unsavedDocs);
    const put: SearchEntry[] = [];
    const remove: string[] = [];
    for (const [id, entry] of entries) {
      if (entry) put.push(entry);
      else remove.push(id);
    }
    const covered: Record<string, string> = {};
    for (const [name, doc] of docs) {
      covered[name] = stateOf(doc);
      this.#covered.set(name, covered[name]);
    }
    this.#unsaved.clear();
    this.#unsavedDocs.clear();
    let id: number;
    try {
      id = await store.appendSearch({ put, remove, covered });
    } catch (error) {
      // Refused (a full disk): the next batch carries these changes too. Dropping them would let
      // a later batch say its documents are covered while the saved index lacks these (a restart
      // would then never index them); what changed since wins over what is carried.
      for (const [entryId, entry] of entries) if (!this.#unsaved.has(entryId)) this.#unsaved.set(entryId, entry);
      for (const [name, doc] of docs) if (!this.#unsavedDocs.has(name)) this.#unsavedDocs.set(name, doc);
      if (!this.#closed) this.#flushTimer ??= setTimeout(() => this.#flush(), RETRY_AFTER_MS);
      console.error('outpost search: cannot save index changes; trying again', error);
      return;
    }
    if (id === 0) return;
    this.#lastBatch = id;
    this.#batchesSinceSnapshot += 1;
    this.#entriesSinceSnapshot += put.length + remove.length;
    try {
      if (remove.length > 0) {
        // Deletion is real: the store dropped a removed message's text with this batch; its
        // words leave the index too (MiniSearch drops a discarded document's terms only when
        // vacuumed), and the saved copy that still holds them is replaced.
        await this.#index.vacuum();
        await this.#snapshot(store);
      } else if (this.#batchesSinceSnapshot >= SNAPSHOT_AFTER_BATCHES || this.#entriesSinceSnapshot >= SNAPSHOT_AFTER_ENTRIES) await this.#snapshot(store);
    } catch (error) {
      // The journal holds the batch: the saved copy is replaced at a later batch.
      console.error('outpost search: cannot save a fresh copy of the index', error);
    }
  }

  async #snapshot(store: SearchStore): Promise<void> {
    // What is covered and the batch reached, as of when the index was asked for its copy.
    const covered = Object.fromEntries(this.#covered);
    const upTo = this.#lastBatch;
    await store.saveSearch({ index: await this.#index.serialize(), covered, upTo });
    this.#batchesSinceSnapshot = 0;
    this.#entriesSinceSnapshot = 0;
  }

  /** Resolves once every change so far is saved (tests, and before closing). */
  async saved(): Promise<void> {
    await this.#ready;
    await this.#flush();
  }

  /** Saves a fresh copy of the whole index now (the journal is replayed on load otherwise). */
  async compact(): Promise<void> {
    await this.saved();
    if (this.#store) await this.#snapshot(this.#store);
  }

  close(): void {
    this.#closed = true;
    const index = this.#index;
    // The index answers until what it holds is saved (a snapshot after removals needs it).
    void this.#flush().finally(() => index.close());
  }

  /**
   * Messages containing every word of `query` (each may be the start of a word), best first.
   * The words are matched in memory; the text of the hits returned is read from their documents,
   * or from the replica for those not in memory (a message removed meanwhile is left out).
   */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    if (query.trim() === '') return [];
    const removed = new Set<string>();
    this.#searching.add(removed);
    const index = this.#index;
    try {
      return await this.#searchIn(index, query, options, removed);
    } catch (error) {
      if (this.#index === index) throw error;
      // Its worker failed during the search: the index on this thread answers once complete.
      await this.#rebuilt;
      return await this.#searchIn(this.#index, query, options, removed);
    } finally {
      this.#searching.delete(removed);
    }
  }

  async #searchIn(index: SearchIndex, query: string, options: SearchOptions, removed: Set<string>): Promise<SearchHit[]> {
    const results = await index.search(query, { ...(options.conversationId ? { conversationId: options.conversationId } : {}), limit: options.limit ?? 50 });
    const texts = new Map<string, SearchText>();
    const unread: string[] = [];
    for (const r of results) {
      const doc = r.segment === undefined ? undefined : this.#watched.get(segmentDoc(r.conversationId as ConversationId, r.segment));
      const view = doc ? readMessage(doc, r.id as MessageId) : null;
      if (view && !view.deleted) texts.set(r.id, textOf(view));
      else unread.push(r.id);
    }
    if (unread.length > 0 && this.#store) {
      const stored = await this.#store.searchTexts(unread);
      for (const text of stored) if (text) texts.set(text.id, text);
    }
    return results.flatMap((r) => {
      const text = texts.get(r.id);
      if (!text || removed.has(r.id)) return [];
      return [
        {
          messageId: r.id as MessageId,
          conversationId: r.conversationId as ConversationId,
          author: text.author as UserId,
          createdAt: text.createdAt,
          body: text.body,
          files: text.files.split('\n').filter(Boolean),
          score: r.score,
          terms: r.terms,
        },
      ];
    });
  }
}

/** The index's entries for these messages of a segment document, and the ids of those deleted or gone. */
function entriesOf(doc: Y.Doc, conversationId: ConversationId, segment: number, ids: Iterable<string>): { put: SearchEntry[]; remove: string[] } {
  const put: SearchEntry[] = [];
  const remove: string[] = [];
  for (const id of ids) {
    const view = readMessage(doc, id as MessageId);
    if (!view || view.deleted) remove.push(id);
    else put.push({ ...textOf(view), conversationId, segment });
  }
  return { put, remove };
}

/** What a hit shows of a message. */
function textOf(view: { id: string; author: string; createdAt: number; body: string; attachments?: { name: string }[] }): SearchText {
  return { id: view.id, author: view.author, createdAt: view.createdAt, body: view.body, files: (view.attachments ?? []).map((a) => a.name).join('\n') };
}

/** A document's state vector as the saved index records it. */
function stateOf(doc: Y.Doc): string {
  const bytes = Y.encodeStateVector(doc);
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}
