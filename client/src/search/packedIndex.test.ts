// The packed index against MiniSearch's own serialisation: over random runs of adds, replacements,
// discards and vacuums, unpacking what was packed (after a structured clone, as IndexedDB stores
// it) gives an index whose whole state serialises exactly as the original's, that answers every
// query the same, and that goes on changing the same way. SEED=n replays one random run.
import { describe, expect, it } from 'vitest';
import MiniSearch from 'minisearch';
import { PACKED_INDEX_VERSION, PackedMap, packIndex, unpackIndex, type PackedIndex, type PackedIndexVersion1 } from './packedIndex.ts';
import { MiniSearchIndex } from './SearchIndex.ts';
import type { SearchEntry } from './SearchStore.ts';
import { seededRandom as random } from './testing/seededRandom.ts';

const OPTIONS = { fields: ['body', 'files'], storeFields: ['conversationId', 'segment'], searchOptions: { prefix: true, combineWith: 'AND' as const } };
const WORDS = ['pump', 'pumping', 'valve', 'north', 'Émile', 'émile', 'späť', '北', 'tank', 'tanker', 'x', 'crew'];
const CONVERSATIONS = ['c-1', 'c-2', 'c-3'];

/** Message ids as the SDK makes them (UUIDs) or any other strings. */
type Ids = 'uuid' | 'text';
const idOf = (n: number, ids: Ids) => (ids === 'uuid' ? `0000${n.toString(16).padStart(4, '0')}-1c2d-4e5f-8a9b-${(n * 7919).toString(16).padStart(12, '0')}` : `m-${n}`);

function session(seed: number, ids: Ids = 'text') {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const entry = (): SearchEntry => {
    const words = Array.from({ length: Math.floor(next() * 8) }, () => pick(WORDS));
    return {
      id: idOf(Math.floor(next() * 300), ids),
      author: 'a',
      createdAt: 1,
      body: words.join(next() < 0.5 ? ' ' : ', '),
      files: next() < 0.2 ? `${pick(WORDS)}.pdf` : '',
      conversationId: pick(CONVERSATIONS),
      // Entries saved before layout 6 have no segment.
      ...(next() < 0.1 ? {} : { segment: Math.floor(next() * 5) }),
    };
  };
  /** One random change to `index`, the same for the same draw. */
  const change = async (index: MiniSearch<SearchEntry>, draw: number, made: SearchEntry): Promise<void> => {
    if (draw < 0.6) {
      if (index.has(made.id)) index.discard(made.id);
      index.add(made);
    } else if (draw < 0.95) {
      if (index.has(made.id)) index.discard(made.id);
    } else await index.vacuum();
  };
  const query = () => Array.from({ length: 1 + Math.floor(next() * 2) }, () => pick(WORDS).slice(0, 1 + Math.floor(next() * 4))).join(' ');
  return { next, entry, change, query };
}

/**
 * The index's whole state as MiniSearch serialises it, its terms sorted: the radix tree lists
 * terms in the order they were inserted (loadJSON changes that order too), which no search sees.
 */
function stateOf(index: MiniSearch): string {
  const json = index.toJSON();
  return JSON.stringify({ ...json, index: [...json.index].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) });
}

const hits = (index: MiniSearch<SearchEntry>, query: string) => index.search(query).map(({ id, score, terms, conversationId, segment }) => ({ id, score, terms, conversationId, segment }));

describe('PackedMap', () => {
  const seeds = process.env.SEED ? [Number(process.env.SEED)] : [1, 2, 3, 4, 5, 6, 7, 8];
  it.each(seeds)('behaves as a Map filled with the same entries in the same order, over random gets, sets, deletes and iterations (seed %i)', (seed) => {
    const next = random(seed);
    const keys = [...new Set(Array.from({ length: Math.floor(next() * 200) }, () => Math.floor(next() * 400)))].sort((a, b) => a - b);
    const values = keys.map((key) => ({ key }));
    const packed = new PackedMap(Uint32Array.from(keys), (at) => values[at] as { key: number }, true);
    const plain = new Map(keys.map((key, at) => [key, values[at] as { key: number }]));
    for (let step = 0; step < 500; step++) {
      const key = Math.floor(next() * 420);
      const roll = next();
      if (roll < 0.3) expect(packed.get(key)).toEqual(plain.get(key));
      else if (roll < 0.45) expect(packed.has(key)).toBe(plain.has(key));
      else if (roll < 0.65) {
        const value = { key: -key };
        expect(packed.set(key, value)).toBe(packed);
        plain.set(key, value);
      } else if (roll < 0.85) expect(packed.delete(key)).toBe(plain.delete(key));
      else if (roll < 0.95) {
        // Deleting and setting while iterating, as MiniSearch's vacuum and searches do: each
        // entry is met once, in the same order.
        const walk = (map: Map<number, { key: number }>) => {
          const met: number[] = [];
          for (const [k, value] of map) {
            met.push(k);
            if (k % 3 === 0) map.delete(k);
            else if (k % 3 === 1) map.set(k, { key: value.key + 1 });
          }
          return met;
        };
        expect(walk(packed)).toEqual(walk(plain));
      } else {
        // A value handed out and changed stays changed.
        const value = packed.get(key);
        const same = plain.get(key);
        if (value) value.key += 1000;
        if (same && same !== value) same.key += 1000;
      }
      expect(packed.size).toBe(plain.size);
      expect([...packed]).toEqual([...plain]);
    }
    expect([...packed.keys()]).toEqual([...plain.keys()]);
    expect([...packed.values()]).toEqual([...plain.values()]);
    packed.clear();
    expect(packed.size).toBe(0);
    expect([...packed]).toEqual([]);
  });
});

describe('packed search index', () => {
  const seeds = process.env.SEED ? [Number(process.env.SEED)] : [1, 2, 3, 4, 5, 6, 7, 8];
  const withIds = seeds.flatMap((seed) => (['uuid', 'text'] as const).map((ids) => [seed, ids] as const));
  it.each(withIds)('unpacks to the same index as it packed (whole state), answers alike, and keeps changing the same way (seed %i, ids as %s)', async (seed, ids) => {
    const { next, entry, change, query } = session(seed, ids);
    const original = new MiniSearch<SearchEntry>(OPTIONS);
    for (let i = 0, n = Math.floor(next() * 600); i < n; i++) await change(original, next(), entry());

    const packed = structuredClone(packIndex(original));
    const unpacked = unpackIndex<SearchEntry>(packed, OPTIONS);
    expect(stateOf(unpacked)).toBe(stateOf(original));
    // Answers exactly as MiniSearch's own copy (loadJSON). Not compared with the original: a copy
    // lists its terms in another order, and a search drops discarded entries' words as it meets
    // them, so scores before a vacuum depend on the searches made before.
    const searched = unpackIndex<SearchEntry>(packed, OPTIONS);
    const copied = MiniSearch.loadJSON<SearchEntry>(JSON.stringify(original), OPTIONS);
    for (let i = 0; i < 30; i++) {
      const q = query();
      expect(hits(searched, q), q).toEqual(hits(copied, q));
    }
    // Both go on from there alike (ids, lengths and averages were all carried over).
    for (let i = 0; i < 200; i++) {
      const draw = next();
      const made = entry();
      await change(original, draw, made);
      await change(unpacked, draw, made);
    }
    expect(stateOf(unpacked)).toBe(stateOf(original));
    // And a second round trip changes nothing.
    expect(stateOf(unpackIndex(packIndex(unpacked), OPTIONS))).toBe(stateOf(original));
  });

  it.each(withIds)('still loads an index packed in version 1, as a replica saved it before version 2 (seed %i, ids as %s)', async (seed, ids) => {
    const { next, entry, change, query } = session(seed, ids);
    const original = new MiniSearch<SearchEntry>(OPTIONS);
    for (let i = 0, n = Math.floor(next() * 600); i < n; i++) await change(original, next(), entry());
    const old = structuredClone(asVersion1(packIndex(original)));
    expect(stateOf(unpackIndex<SearchEntry>(old, OPTIONS))).toBe(stateOf(original));
    const copied = MiniSearch.loadJSON<SearchEntry>(JSON.stringify(original), OPTIONS);
    const searched = unpackIndex<SearchEntry>(old, OPTIONS);
    for (let i = 0; i < 20; i++) {
      const q = query();
      expect(hits(searched, q), q).toEqual(hits(copied, q));
    }
  });

  it('packs each array as narrow as its numbers allow', () => {
    const index = new MiniSearch<SearchEntry>(OPTIONS);
    for (let n = 0; n < 300; n++) index.add({ id: idOf(n, 'uuid'), author: 'a', createdAt: 1, body: `pump ${'valve '.repeat(n)}${Array.from({ length: n }, (_, w) => `w${w}`).join(' ')}`, files: '', conversationId: 'c-1', segment: n });
    const packed = packIndex(index);
    // Short ids 0..299 and segments + 1 up to 300 need 16 bits; frequencies up to 299 too; field lengths (distinct words) + 1 up to 302.
    expect([packed.shortIds, packed.segment, packed.postingFreqs, packed.lengths].map((array) => array.constructor.name)).toEqual(['Uint16Array', 'Uint16Array', 'Uint16Array', 'Uint16Array']);
    expect(packed.conversation.constructor.name).toBe('Uint8Array');
    const big = new MiniSearch<SearchEntry>(OPTIONS);
    big.add({ id: 'm-1', author: 'a', createdAt: 1, body: 'pump', files: '', conversationId: 'c-1', segment: 70_000 });
    const packedBig = packIndex(big);
    expect(packedBig.segment.constructor.name).toBe('Uint32Array');
    expect(unpackIndex<SearchEntry>(packedBig, OPTIONS).search('pump').map((hit) => [hit.id, hit.segment])).toEqual([['m-1', 70_000]]);
  });

  it('packs an empty index', () => {
    const empty = new MiniSearch<SearchEntry>(OPTIONS);
    expect(stateOf(unpackIndex(packIndex(empty), OPTIONS))).toBe(stateOf(empty));
  });

  it('refuses to pack an index that stores other fields or non-string ids', () => {
    const other = new MiniSearch({ fields: ['body'], storeFields: ['body'] });
    other.add({ id: 'a', body: 'pump' });
    expect(() => packIndex(other)).toThrow(/conversationId and segment only, not body/);
    const numeric = new MiniSearch({ fields: ['body'] });
    numeric.add({ id: 1, body: 'pump' });
    expect(() => packIndex(numeric)).toThrow(/string ids, not number/);
  });

  it('says so when a packed index is damaged or of another version, instead of loading part of it', () => {
    const index = new MiniSearch<SearchEntry>(OPTIONS);
    index.add({ id: 'm-1', author: 'a', createdAt: 1, body: 'pump valve', files: '', conversationId: 'c-1', segment: 0 });
    index.add({ id: 'm-2', author: 'a', createdAt: 1, body: 'pump', files: '', conversationId: 'c-2', segment: 1 });
    const packed = packIndex(index);
    const damaged = (change: Partial<PackedIndex>) => () => unpackIndex({ ...packed, ...change }, OPTIONS);
    expect(damaged({ postingDocs: packed.postingDocs.subarray(1), postingFreqs: packed.postingFreqs.subarray(1) })).toThrow(/damaged \(postings\)/);
    expect(damaged({ ids: packed.ids.slice(1) })).toThrow(/damaged \(documents\)/);
    expect(damaged({ lengths: packed.lengths.subarray(1) })).toThrow(/damaged \(field lengths\)/);
    expect(damaged({ conversations: [] })).toThrow(/damaged \(conversations\)/);
    expect(damaged({ termFields: Uint32Array.from([...packed.termFields, 0]) })).toThrow(/damaged \(terms\)/);
    expect(damaged({ version: 3 as typeof PACKED_INDEX_VERSION })).toThrow(/packed as version 3, not 2/);
  });

  it.each(withIds)('loads a damaged copy either not at all, saying so, or as an index that works (seed %i, ids as %s)', async (seed, ids) => {
    const { next, entry, change, query } = session(seed, ids);
    const original = new MiniSearch<SearchEntry>(OPTIONS);
    for (let i = 0; i < 300; i++) await change(original, next(), entry());
    const packed = packIndex(original);
    const arrays = ['shortIds', 'idEnds', 'lengths', 'conversation', 'segment', 'termFields', 'postingDocs', 'postingFreqs'] as const;
    let refused = 0;
    for (let attempt = 0; attempt < 60; attempt++) {
      // One to three values of the stored arrays overwritten with anything, or one cut short.
      const damaged: PackedIndex = structuredClone(packed);
      for (let k = 0, n = 1 + Math.floor(next() * 3); k < n; k++) {
        const name = arrays[Math.floor(next() * arrays.length)] as (typeof arrays)[number];
        const array = damaged[name];
        if (array.length === 0) continue;
        if (next() < 0.2) (damaged as unknown as Record<string, unknown>)[name] = array.subarray(0, Math.floor(next() * array.length));
        else array[Math.floor(next() * array.length)] = next() < 0.5 ? Math.floor(next() * 4_000_000_000) : Math.floor(next() * 300);
      }
      let index: MiniSearch<SearchEntry>;
      try {
        index = unpackIndex(damaged, OPTIONS);
      } catch (error) {
        expect(String(error)).toMatch(/the saved search index is damaged/);
        refused += 1;
        continue;
      }
      // Taken: whatever it finds, it answers, changes and saves again without failing.
      for (let i = 0; i < 5; i++) index.search(query());
      const made = entry();
      if (index.has(made.id)) index.discard(made.id);
      index.add(made);
      await index.vacuum();
      index.search(query());
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('still loads an index saved as MiniSearch JSON (before packing), and saves it packed from then on', async () => {
    const old = new MiniSearch<SearchEntry>(OPTIONS);
    old.add({ id: 'm-1', author: 'a', createdAt: 1, body: 'pump valve', files: '', conversationId: 'c-1', segment: 0 });
    const index = new MiniSearchIndex();
    index.restore({ snapshot: { index: JSON.stringify(old), covered: {}, upTo: 0 }, journal: [] });
    expect((await index.search('valv', { limit: 5 })).map((hit) => [hit.id, hit.conversationId, hit.segment])).toEqual([['m-1', 'c-1', 0]]);
    const packed = await index.serialize();
    expect(packed.version).toBe(PACKED_INDEX_VERSION);
    const again = new MiniSearchIndex();
    again.restore({ snapshot: { index: packed, covered: {}, upTo: 0 }, journal: [] });
    expect((await again.search('pump', { limit: 5 })).map((hit) => hit.id)).toEqual(['m-1']);
  });
});

/** `packed` as version 1 wrote it: NaN or 0xffffffff where no value, 32- and 64-bit arrays. */
function asVersion1(packed: PackedIndex): PackedIndexVersion1 {
  return {
    ...packed,
    version: 1,
    idEnds: Uint32Array.from(packed.idEnds),
    shortIds: Uint32Array.from(packed.shortIds),
    lengths: Float64Array.from(packed.lengths, (value) => (value === 0 ? Number.NaN : value - 1)),
    conversation: Uint32Array.from(packed.conversation, (value) => (value === 0 ? 0xffff_ffff : value - 1)),
    segment: Float64Array.from(packed.segment, (value) => (value === 0 ? Number.NaN : value - 1)),
    termFields: Uint32Array.from(packed.termFields),
    postingDocs: Uint32Array.from(packed.postingDocs),
    postingFreqs: Uint32Array.from(packed.postingFreqs),
  };
}
