// The part of a search both SQL backends share: which messages a user may find, and the filters,
// as SQL over `messages m` with numbered placeholders the backend renders (? or $n); and how a
// page of ranked rows becomes hits.
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import type { SearchPage, SearchQuery, SnippetPart } from './Search.ts';

/** A ranked match as both backends read it. */
export interface RankedRow {
  conversation_id: string;
  id: string;
  seq: number;
  author: string;
  created_at: number;
  received_at: number;
}

/**
 * The hits of a page: `rows` were read with one past the limit, to tell whether another page
 * follows; `snippet` gives each shown row's snippet.
 */
export function hitPage<R extends RankedRow>(rows: readonly R[], query: SearchQuery, snippet: (row: R) => SnippetPart[]): SearchPage {
  const hits = rows.slice(0, query.limit).map((row) => ({
    conversationId: row.conversation_id as ConversationId,
    messageId: row.id as MessageId,
    seq: row.seq,
    author: row.author as UserId,
    createdAt: row.created_at,
    receivedAt: row.received_at,
    snippet: snippet(row),
  }));
  return { hits, nextOffset: rows.length > query.limit ? query.offset + query.limit : null };
}

/**
 * Conversations the user may search, with the time their access ended (null: still a member).
 * A member reads a conversation's whole history, so while they are in it they may find all of
 * it; once they left or were removed, what was written up to that moment (their latest leaving:
 * a re-added member is a member again and `former_members` forgets them).
 */
export const visibleConversations = (user: string) => `
  SELECT conversation_id, NULL AS until FROM members WHERE user_id = ${user}
  UNION ALL
  SELECT f.conversation_id, f.left_at AS until FROM former_members f
  WHERE f.user_id = ${user} AND NOT EXISTS (SELECT 1 FROM members x WHERE x.conversation_id = f.conversation_id AND x.user_id = f.user_id)`;

/** The filter conditions on `m` of a query, and their values in order. */
export function searchFilters(query: SearchQuery, placeholder: () => string): { sql: string; values: (string | number)[] } {
  const conditions: string[] = [];
  const values: (string | number)[] = [];
  if (query.conversationId !== undefined) {
    conditions.push(`m.conversation_id = ${placeholder()}`);
    values.push(query.conversationId);
  }
  if (query.from !== undefined) {
    conditions.push(`m.author = ${placeholder()}`);
    values.push(query.from);
  }
  if (query.before !== undefined) {
    conditions.push(`m.received_at < ${placeholder()}`);
    values.push(query.before);
  }
  if (query.after !== undefined) {
    conditions.push(`m.received_at > ${placeholder()}`);
    values.push(query.after);
  }
  if (query.hasFile) conditions.push('EXISTS (SELECT 1 FROM files f WHERE f.conversation_id = m.conversation_id AND f.message_id = m.id)');
  return { sql: conditions.map((condition) => ` AND ${condition}`).join(''), values };
}
