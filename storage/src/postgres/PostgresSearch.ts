// Message search on Postgres: the generated `messages.search` tsvector with its GIN index
// (migration 8), ranked by ts_rank (divided by the log of the length, as bm25 favours short texts). Snippets are cut here, for the page only: ts_headline parses
// text its own way ("pump-room.pdf" is one token to it) and would not mark what the index matched.
import type pg from 'pg';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { RANKED_WINDOW, type Search, type SearchHit, type SearchPage, type SearchQuery } from '../Search.ts';
import { searchFilters, visibleConversations } from '../searchScope.ts';
import { markedSnippet, tsQuery } from '../searchSyntax.ts';
import { all } from './query.ts';

interface HitRow {
  conversation_id: string;
  id: string;
  seq: number;
  author: string;
  created_at: number;
  received_at: number;
  text: string;
}

export class PostgresSearch implements Search {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const tsquery = tsQuery(query.text);
    if (tsquery === null || query.limit <= 0) return { hits: [], nextOffset: null };
    let n = 2;
    const filters = searchFilters(query, () => `$${++n}`);
    const limit = `$${++n}`;
    const offset = `$${++n}`;
    // As on SQLite: the newest RANKED_WINDOW matches the user may see are ranked, not all of them.
    const rows = await all<HitRow>(
      this.#pool,
      `SELECT p.conversation_id, p.id, p.seq, p.author, p.created_at, p.received_at,
              coalesce(m.edited_body, m.body) || ' ' || m.file_names AS text
       FROM (
         SELECT w.*, ts_rank(w.search, to_tsquery('simple', $2), 1) AS rank
         FROM (
           SELECT m.conversation_id, m.id, m.seq, m.author, m.created_at, m.received_at, m.search
           FROM messages m
           JOIN (${visibleConversations('$1')}) v ON v.conversation_id = m.conversation_id
           WHERE m.search @@ to_tsquery('simple', $2) AND m.deleted_at IS NULL AND (v.until IS NULL OR m.received_at < v.until)${filters.sql}
           ORDER BY m.received_at DESC, m.id DESC
           LIMIT ${RANKED_WINDOW}
         ) w
         ORDER BY rank DESC, w.received_at DESC, w.id
         LIMIT ${limit} OFFSET ${offset}
       ) p
       JOIN messages m ON m.conversation_id = p.conversation_id AND m.id = p.id
       ORDER BY p.rank DESC, p.received_at DESC, p.id`,
      [query.userId, tsquery, ...filters.values, query.limit + 1, query.offset],
    );
    const page = rows.slice(0, query.limit);
    const hits: SearchHit[] = page.map((row) => ({
      conversationId: row.conversation_id as ConversationId,
      messageId: row.id as MessageId,
      seq: row.seq,
      author: row.author as UserId,
      createdAt: row.created_at,
      receivedAt: row.received_at,
      snippet: markedSnippet(row.text, query.text),
    }));
    return { hits, nextOffset: rows.length > query.limit ? query.offset + query.limit : null };
  }
}
