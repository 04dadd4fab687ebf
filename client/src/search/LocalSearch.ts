// Full-text search over the local replica, offline. MiniSearch keeps an in-memory inverted
// index that is updated message by message as segment documents change (load, sync, edits,
// deletions), so a search never scans the documents.
import MiniSearch from 'minisearch';
import type * as Y from 'yjs';
import { parseDocName, readMessage, segmentMaps, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';

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

interface IndexedMessage {
  id: MessageId;
  conversationId: ConversationId;
  author: UserId;
  createdAt: number;
  body: string;
  /** Attachment names, space-separated (a file is found by its name). */
  files: string;
}

/** Finds messages by their words in every segment document opened in this client. */
export class LocalSearch {
  readonly #index = new MiniSearch<IndexedMessage>({
    fields: ['body', 'files'],
    storeFields: ['conversationId', 'author', 'createdAt', 'body', 'files'],
    searchOptions: { prefix: true, combineWith: 'AND' },
  });

  /** Number of messages indexed. */
  get size(): number {
    return this.#index.documentCount;
  }

  /**
   * Keeps the index in step with a segment document from now on (its current content first).
   * Other documents are ignored. Returns the function that stops watching.
   */
  watch(docName: string, doc: Y.Doc): () => void {
    const name = parseDocName(docName);
    if (name?.kind !== 'segment') return () => {};
    const conversationId = name.conversationId;
    const maps = segmentMaps(doc);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one handler for maps of three value types
    const onChange = (event: Y.YMapEvent<any>) => this.#reindex(conversationId, doc, event.keysChanged);
    maps.messages.observe(onChange);
    maps.edits.observe(onChange);
    maps.deletions.observe(onChange);
    this.#reindex(conversationId, doc, maps.messages.keys());
    return () => {
      maps.messages.unobserve(onChange);
      maps.edits.unobserve(onChange);
      maps.deletions.unobserve(onChange);
    };
  }

  #reindex(conversationId: ConversationId, doc: Y.Doc, ids: Iterable<string>): void {
    for (const id of ids) {
      const view = readMessage(doc, id as MessageId);
      if (this.#index.has(id)) this.#index.discard(id);
      if (!view || view.deleted) continue;
      this.#index.add({ id: view.id, conversationId, author: view.author, createdAt: view.createdAt, body: view.body, files: (view.attachments ?? []).map((a) => a.name).join('\n') });
    }
  }

  /** Messages containing every word of `query` (each may be the start of a word), best first. */
  search(query: string, options: SearchOptions = {}): SearchHit[] {
    if (query.trim() === '') return [];
    const filter = options.conversationId ? (hit: { [key: string]: unknown }) => hit.conversationId === options.conversationId : undefined;
    const results = this.#index.search(query, filter ? { filter } : {});
    return results.slice(0, options.limit ?? 50).map((r) => ({
      messageId: r.id as MessageId,
      conversationId: r.conversationId as ConversationId,
      author: r.author as UserId,
      createdAt: r.createdAt as number,
      body: r.body as string,
      files: ((r.files as string | undefined) ?? '').split('\n').filter(Boolean),
      score: r.score,
      terms: r.terms,
    }));
  }
}
