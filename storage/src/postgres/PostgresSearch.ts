// Message search on Postgres: the generated `messages.search` tsvector with its GIN index
// (migrations 8 and 9), ranked by ts_rank (divided by the log of the length, as bm25 favours
// short texts). Snippets are cut here, for the page only: ts_headline parses text its own way
// ("pump-room.pdf" is one token to it) and would not mark what the index matched.
import type pg from 'pg';
import { RANKED_WINDOW, type Search, type SearchPage, type SearchQuery } from '../Search.ts';
import { hitPage, searchFilters, visibleConversations, type RankedRow } from '../searchScope.ts';
import { markedSnippet, tsQuery } from '../searchSyntax.ts';
import { all, one } from './query.ts';

interface WindowRow extends RankedRow {
  rank: number;
}

/** A conversation the user may search, and when their access ended (null: still a member). */
interface Visible {
  conversation_id: string;
  until: number | null;
}

/** Weeks read together, `first` to `last`, numbered from the epoch (`first` null: every week up to `last`). */
interface Weeks {
  first: number | null;
  last: number;
}

/**
 * A message's week is `received_at / WEEK_MS`, the second key of the search index (migration 9):
 * the same expression, or the planner cannot use the index for it (results would not change).
 */
const WEEK_MS = 604_800_000;
/** Expected matches above which they are read a few weeks at a time, newest first. */
const SLICE_ABOVE = 5_000;
/** How many weeks each read covers, one after another back from the newest; then everything before. */
const SLICE_WEEKS = [2, 4, 8, 16, 32] as const;

export class PostgresSearch implements Search {
  readonly #pool: pg.Pool;
  readonly #sliceAbove: number;

  /** `sliceAbove`: expected matches above which they are read a few weeks at a time (tests lower it). */
  constructor(pool: pg.Pool, sliceAbove = SLICE_ABOVE) {
    this.#pool = pool;
    this.#sliceAbove = sliceAbove;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    const tsquery = tsQuery(query.text);
    if (tsquery === null || query.limit <= 0) return { hits: [], nextOffset: null };
    // The conversations the user may search, also as a list the planner can intersect with the
    // word's index entries, so rows of other conversations are not read.
    const visible = (await all<Visible>(this.#pool, `SELECT conversation_id, until FROM (${visibleConversations('$1')}) v`, [query.userId])).filter(
      (row) => query.conversationId === undefined || row.conversation_id === query.conversationId,
    );
    if (visible.length === 0) return { hits: [], nextOffset: null };

    // As on SQLite, the newest RANKED_WINDOW matches the user may see are ranked, not all of them.
    // A GIN index yields matches in no particular order, so finding the newest reads the row of
    // every match: fine for most words, not for a frequent one. When the planner expects many
    // matches, they are read a few weeks at a time, newest first, until the window is full. The
    // week is the index's second key, so only the word's entries of those weeks are read, and the
    // index on (conversation_id, received_at) leaves out the rows of other conversations before
    // any row is read (docs/bench.md, server search, has the figures).
    const window =
      (await this.#estimate(tsquery)) > this.#sliceAbove
        ? await this.#byWeeks(query, tsquery, visible)
        : await this.#read(query, tsquery, visible, null, RANKED_WINDOW);

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
return hitPage(rows, query, (row) => markedSnippet(texts.get(`${row.conversation_id}/${row.id}`) ?? '', query.text));
  }

  /** The newest RANKED_WINDOW matches, read a few weeks at a time back from the newest message. */
  async #byWeeks(query: SearchQuery, tsquery: string, visible: readonly Visible[]): Promise<WindowRow[]> {
    const newest = (await one<{ at: number | null }>(this.#pool, 'SELECT max(received_at) AS at FROM messages', []))?.at ?? null;
    if (newest === null) return [];
    const from = Math.floor((query.before === undefined ? newest : Math.min(newest, query.before - 1)) / WEEK_MS);
    const window: WindowRow[] = [];
    // The first read also takes the week after: a message numbered since `newest` was read.
    let last = from + 1;
    for (const count of SLICE_WEEKS) {
      const first = Math.min(last, from) - count + 1;
      window.push(...(await this.#read(query, tsquery, visible, { first, last }, RANKED_WINDOW - window.length)));
      if (window.length >= RANKED_WINDOW || (query.after !== undefined && first * WEEK_MS <= query.after)) return window;
      last = first - 1;
    }
    window.push(...(await this.#read(query, tsquery, visible, { first: null, last }, RANKED_WINDOW - window.length)));
    return window;
  }

  /** The newest `need` matches the user may see, in `weeks`, or in all their history when it is null. */
  async #read(query: SearchQuery, tsquery: string, visible: readonly Visible[], weeks: Weeks | null, need: number): Promise<WindowRow[]> {
    const values: unknown[] = [tsquery, visible.map((v) => v.conversation_id), visible.map((v) => v.until)];
    let n = values.length;
    const placeholder = () => `$${++n}`;
    const filters = searchFilters(query, placeholder);
    values.push(...filters.values);
    let period = '';
    if (weeks !== null) {
      // The week list is what the index's second key is asked for (the same expression as the
      // index's); the bounds on received_at are what the index on (conversation_id, received_at) is.
      const { first, last } = weeks;
      if (first !== null) {
        period += ` AND m.received_at / ${WEEK_MS} = ANY(${placeholder()}::bigint[]) AND m.received_at >= ${placeholder()}`;
        values.push(
          Array.from({ length: last - first + 1 }, (_, i) => first + i),
          first * WEEK_MS,
        );
      }
      period += ` AND m.received_at < ${placeholder()}`;
      values.push((last + 1) * WEEK_MS);
    }
    return all<WindowRow>(
      this.#pool,
      `SELECT m.conversation_id, m.id, m.seq, m.author, m.created_at, m.received_at, ts_rank(m.search, to_tsquery('simple', $1), 1) AS rank
       FROM messages m
       JOIN unnest($2::text[], $3::bigint[]) AS v (conversation_id, until) ON v.conversation_id = m.conversation_id
       WHERE m.search @@ to_tsquery('simple', $1) AND m.conversation_id = ANY($2::text[]) AND m.deleted_at IS NULL
         AND (v.until IS NULL OR m.received_at < v.until)${filters.sql}${period}
       ORDER BY m.received_at DESC, m.id DESC
       LIMIT ${need}`,
      values,
    );
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
