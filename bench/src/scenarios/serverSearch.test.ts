// The search bench, tiny, in the test suite: it must keep running on both backends (so
// `npm run bench -- search` cannot break silently) and its queries must find what they should.
// No timing is asserted: speed is the bench's business.
import { describe, expect, it } from 'vitest';
import { serverSearch } from './serverSearch.ts';

describe('the server search bench, tiny', () => {
  it('loads, searches and checks membership on SQLite and Postgres', async () => {
    const results = await serverSearch({ messages: 4_000, queries: 40, backends: ['sqlite', 'postgres'], print: false });
    expect(results.map((result) => result.backend)).toEqual(['sqlite', 'postgres']);
    for (const result of results) {
      expect(result.scoped).toBe(true);
      expect(Object.keys(result.latency).sort()).toEqual(['common word', 'newcomer, common word', 'one word', 'two words', 'word + filter']);
      // Frequent words are found (a page or close to it); every kind ran its share of queries.
      expect(result.latency['common word'].meanHits).toBeGreaterThan(5);
      // A word (or two) taken from a message the searcher can read finds at least that message.
      expect(result.latency['one word'].minHits).toBeGreaterThanOrEqual(1);
      expect(result.latency['two words'].minHits).toBeGreaterThanOrEqual(1);
      for (const latency of Object.values(result.latency)) expect(latency.count).toBe(8);
    }
    // Both backends index the same words: the same queries find as many hits.
    const [sqlite, postgres] = results;
    expect(postgres!.latency['common word'].meanHits).toBe(sqlite!.latency['common word'].meanHits);
    expect(postgres!.latency['one word'].meanHits).toBe(sqlite!.latency['one word'].meanHits);
    // The newcomer finds their own conversation's matches, and the same on both.
    expect(sqlite!.latency['newcomer, common word'].meanHits).toBeGreaterThan(0);
    expect(postgres!.latency['newcomer, common word'].meanHits).toBe(sqlite!.latency['newcomer, common word'].meanHits);
  }, 120_000);
});
