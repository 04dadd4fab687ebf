// Message search on SQLite: FTS5 (message_search, kept by triggers, migration 8), ranked by bm25.
// New messages reach the index in batches (migration 10): indexPending takes the queue, run by the
// node every second and by a search before it reads, so a search finds every message committed.
import { RANKED_WINDOW, type Search, type SearchPage, type SearchQuery } from '../Search.ts';
import { hitPage, searchFilters, visibleConversations, type RankedRow } from '../searchScope.ts';
import { fts5Match, fts5Scoped, HIT_END, HIT_START, snippetParts } from '../searchSyntax.ts';
import type { SqliteDatabase, SqlValue } from './SqliteDatabase.ts';

interface HitRow extends RankedRow {
  doc: number;
  score: number;
}

/** Tokens of context a snippet shows around what matched. */
const SNIPPET_TOKENS = 16;
/**
 * A search names the user's conversations to the index when they hold less than this share of
 * the server's messages (and there are at most SCOPED_UP_TO of them). Walking a word's matches
 * newest first, such a user would see one in twenty at best, and none of a word only others use.
 * Naming them costs in proportion to what the user can see, so past this share the walk is cheaper.
 */
const SCOPED_BELOW_SHARE = 1 / 20;
const SCOPED_UP_TO = 500;
/** Queued messages one indexing transaction takes at most (a few tens of ms of work). */
export const INDEX_BATCH = 2_000;

export class SqliteSearch implements Search {
  readonly #sql: SqliteDatabase;
  readonly #scopedBelowShare: number;

  /** `scopedBelowShare`: see SCOPED_BELOW_SHARE (tests raise it to name the conversations in every search). */
  constructor(sql: SqliteDatabase, scopedBelowShare = SCOPED_BELOW_SHARE) {
    this.#sql = sql;
    this.#scopedBelowShare = scopedBelowShare;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const match = fts5Match(query.text);
    if (match === null || query.limit <= 0) return { hits: [], nextOffset: null };
    const filters = searchFilters(query, () => '?');
    // What is still queued goes in first (the queue holds at most a second or so of messages).
    while (this.indexPending() === INDEX_BATCH);
    return this.#sql.deferred(() => {
      // The conversations the user may search. When they hold a small share of the server's
      // messages, they are named in the query to the index (rows carry their conversation as a
      // token, migration 11), so FTS5 reads only the matches in them: walking a frequent word's
      // matches in the whole server to keep the few the user may see cost 55 ms at 200,000
      // messages for someone in one small conversation, and grew with the server.
      const visible = this.#sql
        .all<{ conversation_id: string; messages: number }>(
          `SELECT v.conversation_id, c.last_seq AS messages FROM (${visibleConversations('?')}) v JOIN conversations c ON c.id = v.conversation_id`,
          query.userId, query.userId,
        )
        .filter((row) => query.conversationId === undefined || row.conversation_id === query.conversationId);
      if (visible.length === 0) return { hits: [], nextOffset: null };
      const seen = visible.reduce((sum, row) => sum + row.messages, 0);
      const all = this.#sql.get<{ docs: number | null }>('SELECT max(doc) AS docs FROM message_search_rows')?.docs ?? 0;
      const named = visible.length <= SCOPED_UP_TO && seen < all * this.#scopedBelowShare;
      const scoped = fts5Scoped(match, named ? visible.map((row) => row.conversation_id) : undefined);
      // The page first (ranking needs no snippet), then snippets for that page only.
      // Ranking every match of a frequent word would cost in proportion to the history; the newest
      // RANKED_WINDOW matches the user may see are ranked instead (FTS5 walks its index newest
      // first and stops there), so a search costs the same after ten years as after one. CROSS JOIN
      // fixes the order: a match outside the user's conversations is dropped before its message is
      // read (and their time as a member is checked, `until`). The scope column weighs nothing in
      // the rank (bm25's weights), or a small conversation's messages would rank first.
      const rows = this.#sql.all<HitRow>(
        `SELECT * FROM (
           SELECT r.doc, m.conversation_id, m.id, m.seq, m.author, m.created_at, m.received_at, bm25(message_search, 1, 1, 0) AS score
           FROM message_search
           CROSS JOIN message_search_rows r ON r.doc = message_search.rowid
           CROSS JOIN (${visibleConversations('?')}) v ON v.conversation_id = r.conversation_id
           CROSS JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
           WHERE message_search MATCH ? AND m.deleted_at IS NULL AND (v.until IS NULL OR m.received_at < v.until)${filters.sql}
           ORDER BY message_search.rowid DESC
           LIMIT ${RANKED_WINDOW}
         )
         ORDER BY score, received_at DESC, id
         LIMIT ? OFFSET ?`,
        query.userId, query.userId, scoped, ...filters.values, query.limit + 1, query.offset,
      );
      const page = rows.slice(0, query.limit);
      const snippets = new Map<number, string>();
      if (page.length > 0) {
        const docs = page.map((row) => row.doc);
        const found = this.#sql.all<{ doc: number; snippet: string }>(
          `SELECT rowid AS doc, snippet(message_search, -1, ?, ?, '…', ${SNIPPET_TOKENS}) AS snippet
           FROM message_search WHERE message_search MATCH ? AND rowid IN (SELECT value FROM json_each(?))`,
          HIT_START, HIT_END, fts5Scoped(match), JSON.stringify(docs) as SqlValue,
        );
        for (const row of found) snippets.set(row.doc, row.snippet);
      }
return hitPage(rows, query, (row) => snippetParts(snippets.get(row.doc) ?? ''));
    });
  }

  /**
   * Puts up to INDEX_BATCH queued messages into the full-text index, in one transaction, as
   * they are now (edited text, files; a deleted one not at all). Returns how many it took.
   */
  indexPending(): number {
    if (!this.#sql.get('SELECT 1 FROM message_search_pending LIMIT 1')) return 0;
    return this.#sql.immediate(() => {
      const last = this.#sql.get<{ doc: number }>('SELECT doc FROM message_search_pending ORDER BY doc LIMIT 1 OFFSET ?', INDEX_BATCH - 1)?.doc ?? Number.MAX_SAFE_INTEGER;
      // An edit or a file may have indexed a queued message already: out first, then in once.
      this.#sql.run('DELETE FROM message_search WHERE rowid IN (SELECT doc FROM message_search_pending WHERE doc <= ?)', last);
      this.#sql.run(
        `INSERT INTO message_search (rowid, body, files, scope)
           SELECT doc, body, files, scope FROM message_search_source
           WHERE doc IN (SELECT doc FROM message_search_pending WHERE doc <= ?) ORDER BY doc`,
        last,
      );
      return this.#sql.run('DELETE FROM message_search_pending WHERE doc <= ?', last).changes;
    });
  }
}
