// Server-side full-text search over the message projection: what a user may find (every
// conversation they are in, and the ones they left up to the moment they left), filtered,
// ranked, with highlighted snippets and paging. SQLite uses FTS5, Postgres a tsvector with a
// GIN index; both follow the projection through triggers, so an edit re-indexes a message and a
// deletion takes it out of the index in the same transaction.
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';

/**
 * How many of the newest matches a search ranks. A word in 3 % of a million messages matches
 * 30,000; ranking them all would make a search slower every year, so the newest matches the user
 * may see (with every filter applied) are ranked, and paging ends there.
 */
export const RANKED_WINDOW = 1_000;

export interface SearchQuery {
  /** Who searches: only conversations they are or were in are searched. */
  userId: UserId;
  /**
   * The words to find, as the user typed them. Never query syntax: only letters and digits
   * count (see `searchWords`), every word must match, as a whole word (without case or accents on SQLite).
   */
  text: string;
  /** Only this conversation. */
  conversationId?: ConversationId;
  /** Only messages by this person. */
  from?: UserId;
  /** Only messages the server received before this time (ms, exclusive). */
  before?: number;
  /** Only messages the server received after this time (ms, exclusive). */
  after?: number;
  /** Only messages that carry at least one file. */
  hasFile?: boolean;
  /** Hits to skip (paging). */
  offset: number;
  /** Hits to return, at most. */
  limit: number;
}

/** A piece of a snippet; `hit` pieces are the words that matched. */
export interface SnippetPart {
  text: string;
  hit: boolean;
}

export interface SearchHit {
  conversationId: ConversationId;
  messageId: MessageId;
  seq: number;
  author: UserId;
  createdAt: number;
  receivedAt: number;
  /** A short excerpt of the message (text or file names) around what matched. */
  snippet: SnippetPart[];
}

export interface SearchPage {
  hits: SearchHit[];
  /** The offset of the next page, or null when this page is the last. */
  nextOffset: number | null;
}

export interface Search {
  /**
   * Best matches first (then newest), among the newest RANKED_WINDOW matches. A query without a
   * word finds nothing.
   */
  search(query: SearchQuery): Promise<SearchPage>;
}
