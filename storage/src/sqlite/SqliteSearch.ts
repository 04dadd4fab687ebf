// Message search on SQLite: FTS5 (message_search, kept by triggers, migration 8), ranked by bm25.
// New messages reach the index in batches (migration 10): indexPending takes the queue, run by the
// node every second and by a search before it reads, so a search finds every message committed.
import { RANKED_WINDOW, type Search, type SearchPage, type SearchQuery } from '../Search.ts';
import { hitPage, searchFilters, visibleConversations, type RankedRow } from '../searchScope.ts';
import { fts5Match, HIT_END, HIT_START, snippetParts } from '../searchSyntax.ts';
import type { SqliteDatabase, SqlValue } from './SqliteDatabase.ts';

interface HitRow extends RankedRow {
  doc: number;
  score: number;
}

/** Tokens of context a snippet shows around what matched. */
const SNIPPET_TOKENS = 16;
/** Queued messages one indexing transaction takes at most (a few tens of ms of work). */
export const INDEX_BATCH = 2_000;

export class SqliteSearch implements Search {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const match = fts5Match(query.text);
    if (match === null || query.limit <= 0) return { hits: [], nextOffset: null };
    const filters = searchFilters(query, () => '?');
    // What is still queued goes in first (the queue holds at most a second or so of messages).
    while (this.indexPending() === INDEX_BATCH);
    return this.#sql.deferred(() => {
      // The page first (ranking needs no snippet), then snippets for that page only.
      // Ranking every match of a frequent word would cost in proportion to the history; the newest
      // RANKED_WINDOW matches the user may see are ranked instead (FTS5 walks its index newest
      // first and stops there), so a search costs the same after ten years as after one. CROSS JOIN
      // fixes the order: a match outside the user's conversations is dropped before its message is read.
      const rows = this.#sql.all<HitRow>(
        `SELECT * FROM (
           SELECT r.doc, m.conversation_id, m.id, m.seq, m.author, m.created_at, m.received_at, bm25(message_search) AS score
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
        query.userId, query.userId, match, ...filters.values, query.limit + 1, query.offset,
      );
      const page = rows.slice(0, query.limit);
      const snippets = new Map<number, string>();
      if (page.length > 0) {
        const docs = page.map((row) => row.doc);
        const found = this.#sql.all<{ doc: number; snippet: string }>(
          `SELECT rowid AS doc, snippet(message_search, -1, ?, ?, '…', ${SNIPPET_TOKENS}) AS snippet
           FROM message_search WHERE message_search MATCH ? AND rowid IN (SELECT value FROM json_each(?))`,
          HIT_START, HIT_END, match, JSON.stringify(docs) as SqlValue,
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
        `INSERT INTO message_search (rowid, body, files)
           SELECT r.doc, coalesce(m.edited_body, m.body),
                  coalesce((SELECT group_concat(f.name, ' ') FROM files f WHERE f.conversation_id = m.conversation_id AND f.message_id = m.id), '')
           FROM message_search_pending p
           JOIN message_search_rows r ON r.doc = p.doc
           JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
           WHERE p.doc <= ? AND m.deleted_at IS NULL`,
        last,
      );
      return this.#sql.run('DELETE FROM message_search_pending WHERE doc <= ?', last).changes;
    });
  }
}
