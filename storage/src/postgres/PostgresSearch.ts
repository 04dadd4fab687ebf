// Message search on Postgres: the generated `messages.search` tsvector with its GIN index
// (migration 8), ranked by ts_rank (divided by the log of the length, as bm25 favours short
// texts). Snippets are cut here, for the page only: ts_headline parses text its own way
// ("pump-room.pdf" is one token to it) and would not mark what the index matched.
import type pg from 'pg';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { RANKED_WINDOW, type Search, type SearchHit, type SearchPage, type SearchQuery } from '../Search.ts';
import { searchFilters, visibleConversations } from '../searchScope.ts';
import { markedSnippet, tsQuery } from '../searchSyntax.ts';
import { all, one } from './query.ts';

interface WindowRow {
  conversation_id: string;
  id: string;
  seq: number;
  author: string;
  created_at: number;
  received_at: number;
  rank: number;
}

const DAY = 24 * 3600 * 1000;
/** Expected matches above which they are read a period at a time. */
const SLICE_ABOVE = 5_000;
/** Periods read one after another, back from the newest message; null: everything before. */
const SPANS_MS = [7 * DAY, 30 * DAY, 120 * DAY, 365 * DAY, null] as const;

export class PostgresSearch implements Search {
  readonly #pool: pg.Pool;
  readonly #sliceAbove: number;

  /** `sliceAbove`: expected matches above which they are read a period at a time (tests lower it). */
  constructor(pool: pg.Pool, sliceAbove = SLICE_ABOVE) {
    this.#pool = pool;
    this.#sliceAbove = sliceAbove;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const tsquery = tsQuery(query.text);
    if (tsquery === null || query.limit <= 0) return { hits: [], nextOffset: null };
    const newest = (await one<{ at: number | null }>(this.#pool, 'SELECT max(received_at) AS at FROM messages', []))?.at ?? null;
    if (newest === null) return { hits: [], nextOffset: null };

    // As on SQLite, the newest RANKED_WINDOW matches the user may see are ranked, not all of them.
    // A GIN index yields matches in no particular order, so finding the newest reads the row of
    // every match: fine for most words, not for a frequent one. When the planner expects many
    // matches, they are read a period at a time, newest period first (the index on received_at
    // narrows each read), until the window is full.
    const estimate = await this.#estimate(tsquery);
    const spans = estimate > this.#sliceAbove ? SPANS_MS : ([null] as const);
    // The conversations the user may search, also as a list the planner can intersect with the
    // word's index entries (a bitmap of the primary key), so rows of other conversations are not read.
    const visible = (await all<{ conversation_id: string }>(this.#pool, `SELECT conversation_id FROM (${visibleConversations('$1')}) v`, [query.userId])).map(
      (row) => row.conversation_id,
    );
    if (visible.length === 0) return { hits: [], nextOffset: null };
    const window: WindowRow[] = [];
    let upper: number | null = null;
    for (const span of spans) {
      const lower = span === null ? null : newest - span;
      const values: unknown[] = [query.userId, tsquery, visible];
      const placeholder = () => `$${values.length + 1}`;
      let n = values.length;
      const filters = searchFilters(query, () => `$${++n}`);
      values.push(...filters.values);
      let period = '';
      if (lower !== null) {
        period += ` AND m.received_at > ${placeholder()}`;
        values.push(lower);
      }
      if (upper !== null) {
        period += ` AND m.received_at <= ${placeholder()}`;
        values.push(upper);
      }
      const need = RANKED_WINDOW - window.length;
      window.push(
        ...(await all<WindowRow>(
          this.#pool,
          `SELECT m.conversation_id, m.id, m.seq, m.author, m.created_at, m.received_at, ts_rank(m.search, to_tsquery('simple', $2), 1) AS rank
           FROM messages m
           JOIN (${visibleConversations('$1')}) v ON v.conversation_id = m.conversation_id
           WHERE m.search @@ to_tsquery('simple', $2) AND m.conversation_id = ANY($3::text[]) AND m.deleted_at IS NULL
             AND (v.until IS NULL OR m.received_at < v.until)${filters.sql}${period}
           ORDER BY m.received_at DESC, m.id DESC
           LIMIT ${need}`,
          values,
        )),
      );
      if (window.length >= RANKED_WINDOW || lower === null || (query.after !== undefined && lower <= query.after)) break;
      upper = lower;
    }

    window.sort((a, b) => b.rank - a.rank || b.received_at - a.received_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rows = window.slice(query.offset, query.offset + query.limit + 1);
    const page = rows.slice(0, query.limit);
    const texts = new Map<string, string>();
    if (page.length > 0) {
      const found = await all<{ conversation_id: string; id: string; text: string }>(
        this.#pool,
        `SELECT m.conversation_id, m.id, coalesce(m.edited_body, m.body) || ' ' || m.file_names AS text
         FROM unnest($1::text[], $2::text[]) AS p (conversation_id, id)
         JOIN messages m ON m.conversation_id = p.conversation_id AND m.id = p.id`,
        [page.map((row) => row.conversation_id), page.map((row) => row.id)],
      );
      for (const row of found) texts.set(`${row.conversation_id}/${row.id}`, row.text);
    }
    const hits: SearchHit[] = page.map((row) => ({
      conversationId: row.conversation_id as ConversationId,
      messageId: row.id as MessageId,
      seq: row.seq,
      author: row.author as UserId,
      createdAt: row.created_at,
      receivedAt: row.received_at,
      snippet: markedSnippet(texts.get(`${row.conversation_id}/${row.id}`) ?? '', query.text),
    }));
    return { hits, nextOffset: rows.length > query.limit ? query.offset + query.limit : null };
  }

  /** How many messages the planner expects `tsquery` to match (from the column's statistics). */
  async #estimate(tsquery: string): Promise<number> {
    const row = await one<{ 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }>(
      this.#pool,
      "EXPLAIN (FORMAT JSON) SELECT 1 FROM messages WHERE search @@ to_tsquery('simple', $1)",
      [tsquery],
    );
    return row?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? Number.POSITIVE_INFINITY;
  }
}
