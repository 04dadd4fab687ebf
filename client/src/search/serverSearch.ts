// Server search as the SDK offers it: the options of GET /api/search, and the merge of the
// server's hits with the replica's, so a screen lists each message once whichever side found it.
import type { ConversationId, MessageId, SearchResponse, SearchSnippetPart, UserId } from '@outpost/shared-schema';
import type { SearchHit } from './LocalSearch.ts';

export interface ServerSearchOptions {
  /** Only this conversation. */
  conversationId?: ConversationId;
  /** Only messages by this person. */
  from?: UserId;
  /** Only messages the server received before this time (exclusive). */
  before?: Date | number;
  /** Only messages the server received after this time (exclusive). */
  after?: Date | number;
  /** Only messages that carry a file. */
  hasFile?: boolean;
  /** Paging: the `nextOffset` of the previous page. */
  offset?: number;
  /** Hits per page (1–50, default 20). */
  limit?: number;
}

export type ServerSearchPage = SearchResponse;

/** The query string of GET /api/search for `query` and `options`. */
export function serverSearchPath(query: string, options: ServerSearchOptions = {}): string {
  const params = new URLSearchParams({ q: query });
  if (options.conversationId) params.set('conversation', options.conversationId);
  if (options.from) params.set('from', options.from);
  if (options.before !== undefined) params.set('before', String(+options.before));
  if (options.after !== undefined) params.set('after', String(+options.after));
  if (options.hasFile) params.set('has', 'file');
  if (options.offset !== undefined) params.set('offset', String(options.offset));
  if (options.limit !== undefined) params.set('limit', String(options.limit));
  return `/api/search?${params.toString()}`;
}

/** One message found by search, on this device, on the server, or both. */
export interface MergedHit {
  messageId: MessageId;
  conversationId: ConversationId;
  author: UserId;
  createdAt: number;
  /** The excerpt to show, matched words marked. */
  snippet: SearchSnippetPart[];
  /** Where it was found: the replica has it (`local`), the server found it (`server`), or both. */
  foundIn: 'local' | 'server' | 'both';
  /** The replica's hit (its current text and files), when the replica found it. */
  local?: SearchHit;
}

/** Marks the words of `text` that the local search matched (its `terms`). */
function localSnippet(hit: SearchHit): SearchSnippetPart[] {
  const text = hit.body || hit.files.join(', ');
  const terms = new Set(hit.terms.map((term) => term.toLowerCase()));
  const parts: SearchSnippetPart[] = [];
  for (const piece of text.slice(0, 300).split(/([\p{L}\p{N}\p{M}]+)/u)) {
    if (piece === '') continue;
    const hitWord = terms.has(piece.toLowerCase());
    const last = parts.at(-1);
    if (last && last.hit === hitWord) last.text += piece;
    else parts.push({ text: piece, hit: hitWord });
  }
  return parts;
}

/**
 * The local hits, in their order, then the server's hits that the replica did not find, in the
 * server's order: each message once. A message the replica holds is shown from the replica (its
 * text is the newest this device knows); a message the device deleted or has not synced yet
 * appears only if the server found it.
 */
export function mergeSearchHits(local: readonly SearchHit[], server: readonly SearchResponse['hits'][number][]): MergedHit[] {
  const merged = new Map<string, MergedHit>();
  for (const hit of local) {
    merged.set(hit.messageId, {
      messageId: hit.messageId,
      conversationId: hit.conversationId,
      author: hit.author,
      createdAt: hit.createdAt,
      snippet: localSnippet(hit),
      foundIn: 'local',
      local: hit,
    });
  }
  for (const hit of server) {
    const known = merged.get(hit.messageId);
    if (known) {
      known.foundIn = 'both';
      continue;
    }
    merged.set(hit.messageId, {
      messageId: hit.messageId as MessageId,
      conversationId: hit.conversationId as ConversationId,
      author: hit.author as UserId,
      createdAt: hit.createdAt,
      snippet: hit.snippet,
      foundIn: 'server',
    });
  }
  return [...merged.values()];
}
