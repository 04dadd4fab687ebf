import { describe, expect, it } from 'vitest';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import type { SearchHit } from './LocalSearch.ts';
import { mergeSearchHits, serverSearchPath } from './serverSearch.ts';

const local = (id: string, body: string, terms: string[]): SearchHit => ({
  messageId: id as MessageId,
  conversationId: 'c1' as ConversationId,
  author: 'u1' as UserId,
  createdAt: 1,
  body,
  files: [],
  score: 1,
  terms,
});
const server = (id: string) => ({
  conversationId: 'c2',
  messageId: id,
  seq: 7,
  author: 'u2',
  createdAt: 2,
  receivedAt: 3,
  snippet: [{ text: 'old ', hit: false }, { text: 'pump', hit: true }],
});

describe('merging local and server search hits', () => {
  it('lists each message once: local hits first, then what only the server found', () => {
    const merged = mergeSearchHits([local('a', 'Pump seal, pumping', ['pump', 'pumping']), local('b', 'pump', ['pump'])], [server('c'), server('a'), server('d')]);
    expect(merged.map((hit) => [hit.messageId, hit.foundIn])).toEqual([
      ['a', 'both'],
      ['b', 'local'],
      ['c', 'server'],
      ['d', 'server'],
    ]);
    expect(merged[0]!.snippet).toEqual([
      { text: 'Pump', hit: true },
      { text: ' seal, ', hit: false },
      { text: 'pumping', hit: true },
    ]);
    expect(merged[1]!.local?.body).toBe('pump');
    expect(merged[2]!.local).toBeUndefined();
    expect(merged[2]).toMatchObject({ conversationId: 'c2', author: 'u2', createdAt: 2, snippet: server('c').snippet });
    expect(mergeSearchHits([], [])).toEqual([]);
  });

  it('puts every option in the query string and nothing else', () => {
    expect(serverSearchPath('pump "seal" & more', {})).toBe('/api/search?q=pump+%22seal%22+%26+more');
    expect(
      serverSearchPath('x', { conversationId: 'c' as ConversationId, from: 'u' as UserId, before: new Date(2000), after: 1000, hasFile: true, offset: 20, limit: 10 }),
    ).toBe('/api/search?q=x&conversation=c&from=u&before=2000&after=1000&has=file&offset=20&limit=10');
  });
});
