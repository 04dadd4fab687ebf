// GET /api/search: its parameters, its answer, and the one rule of what a query's words are, so
// the server, the SDK and the web app read a query the same way. A query is words, never syntax:
// quotes, operators (OR, NEAR, -, *, :) and SQL reach no database as anything but word breaks.
import { z } from 'zod';
import { isUuid } from '../names.ts';

export const SearchLimits = {
  /** Characters of the query text. */
  queryChars: 500,
  /** Words of a query that count (the rest are ignored). */
  words: 16,
  /** Hits per page, at most (and by default 20). */
  pageSize: 50,
  defaultPageSize: 20,
  /** How deep paging goes: the server ranks the newest 1,000 matches. */
  maxOffset: 950,
} as const;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * The words of a query, lowercased, in order, each once, at most `SearchLimits.words`:
 * runs of letters, digits and combining marks. Everything else separates words.
 *
 * @example searchWords('"pump" OR seal*') // ['pump', 'or', 'seal']
 */
export function searchWords(text: string): string[] {
  const words = new Set<string>();
  for (const match of text.toLowerCase().matchAll(WORD)) {
    words.add(match[0]);
    if (words.size === SearchLimits.words) break;
  }
  return [...words];
}

const uuid = z.string().refine(isUuid, 'must be a UUID');

/** A time: milliseconds since the epoch, or an ISO 8601 date or date-time. */
const time = z.string().transform((value, ctx) => {
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be a date (2026-03-01), a date-time (2026-03-01T12:00:00Z) or milliseconds since 1970' });
    return z.NEVER;
  }
  return ms;
});

const count = (min: number, max: number) =>
  z.string().regex(/^\d{1,6}$/, 'must be a whole number').transform(Number).pipe(z.number().min(min).max(max));

/** The query string of GET /api/search. */
export const SearchParams = z
  .strictObject({
    q: z
      .string()
      .max(SearchLimits.queryChars, `must be at most ${SearchLimits.queryChars} characters`)
      .refine((q) => searchWords(q).length > 0, 'must contain at least one word (letters or digits)'),
    conversation: uuid.optional(),
    from: uuid.optional(),
    before: time.optional(),
    after: time.optional(),
    has: z.enum(['file']).optional(),
    offset: count(0, SearchLimits.maxOffset).optional(),
    limit: count(1, SearchLimits.pageSize).optional(),
  })
  .refine((p) => p.before === undefined || p.after === undefined || p.after < p.before, { message: 'after must be earlier than before', path: ['after'] });
export type SearchParams = z.infer<typeof SearchParams>;

export const SearchSnippetPart = z.object({ text: z.string(), hit: z.boolean() });
export type SearchSnippetPart = z.infer<typeof SearchSnippetPart>;

export const SearchResultHit = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  seq: z.number(),
  author: z.string(),
  createdAt: z.number(),
  receivedAt: z.number(),
  snippet: z.array(SearchSnippetPart),
});
export type SearchResultHit = z.infer<typeof SearchResultHit>;

export const SearchResponse = z.object({
  hits: z.array(SearchResultHit),
  /** Pass as `offset` for the next page; null on the last one. */
  nextOffset: z.number().nullable(),
});
export type SearchResponse = z.infer<typeof SearchResponse>;
