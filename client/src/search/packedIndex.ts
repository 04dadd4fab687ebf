// The saved search index as typed arrays instead of MiniSearch's JSON. MiniSearch loads its JSON
// by turning every term's postings, every document's id, field lengths and stored fields into Map
// entries, key by string key: half a second for 100,000 messages in Node, a second in Chromium,
// before the JSON is even parsed; filling the same Maps from typed arrays is barely faster.
// Packed, the state is a few flat arrays that IndexedDB copies as they are, and unpacking builds
// no entries at all: each Map reads its packed arrays by binary search, and keeps later changes
// as any Map does. It reads and writes the state MiniSearch keeps `protected` for subclasses
// (minisearch 7), nothing private.
import MiniSearch, { type Options } from 'minisearch';

/** Bumped when the layout below changes; version 1 is still read, an unknown one is not (the index is rebuilt). */
export const PACKED_INDEX_VERSION = 2;

/**
 * Whole numbers in the smallest unsigned array that holds the largest of them (most indexes'
 * field lengths and frequencies fit in 8 or 16 bits, their short ids in 32): the saved copy and
 * the worker's memory hold fewer bytes.
 */
export type Counts = Uint8Array | Uint16Array | Uint32Array;

export interface PackedIndex {
  version: typeof PACKED_INDEX_VERSION;
  documentCount: number;
  nextId: number;
  dirtCount: number;
  fieldIds: Record<string, number>;
  averageFieldLength: number[];
  /**
   * Documents: short ids, ascending, and their ids: the n-th is `ids.slice(idEnds[n - 1] ?? 0, idEnds[n])`
   * (a slice of one string costs next to nothing; ids packed as bytes made every hit of a common
   * word build its id again, and were not read any faster).
   */
  shortIds: Counts;
  ids: string;
  idEnds: Counts;
  /** Each document's field lengths, one value per field, plus one (0: none). */
  lengths: Counts;
  /**
   * Each document's stored fields (conversationId, segment): an index into `conversations`, and a
   * number, each plus one (0: not set; entries saved before layout 6 have no segment).
   */
  conversations: string[];
  conversation: Counts;
  segment: Counts;
  /**
   * The inverted index: per term, its number of fields, then (field id, number of documents) for
   * each; then every (document, frequency), term by term and field by field, documents ascending.
   */
  terms: string[];
  termFields: Counts;
  postingDocs: Counts;
  postingFreqs: Counts;
}

/** The first layout (2026-11-27): absent values as NaN or 0xffffffff, every array 32 or 64 bits wide. */
export interface PackedIndexVersion1 {
  version: 1;
  documentCount: number;
  nextId: number;
  dirtCount: number;
  fieldIds: Record<string, number>;
  averageFieldLength: number[];
  shortIds: Uint32Array;
  ids: string;
  idEnds: Uint32Array;
  lengths: Float64Array;
  conversations: string[];
  conversation: Uint32Array;
  segment: Float64Array;
  terms: string[];
  termFields: Uint32Array;
  postingDocs: Uint32Array;
  postingFreqs: Uint32Array;
}

/** A packed index as a replica may hold it: the current layout, or one it still reads. */
export type SavedPackedIndex = PackedIndex | PackedIndexVersion1;

/** No value in version 1 (a stored field not set). */
const ABSENT_V1 = 0xffff_ffff;

/** The stored fields the packed form holds; an index storing others cannot be packed. */
interface StoredFields {
  conversationId?: string;
  segment?: number;
}

/**
 * A Map of numeric keys whose first entries are read from packed arrays when asked for: `keys`
 * ascending, the i-th value `valueAt(i)`. It behaves as a Map filled with those entries in that
 * order: a packed entry set again keeps its place, one deleted is gone, new ones come after.
 */
export class PackedMap<V> extends Map<number, V> {
  #keys: Counts;
  readonly #valueAt: (i: number) => V;
  /** Positions of packed entries deleted since. */
  readonly #deleted = new Set<number>();
  /** Values of packed entries set since (or handed out, when they are kept), by position. */
  readonly #changed = new Map<number, V>();
  /** Objects handed out are kept, so a change made to one is there on the next get. */
  readonly #keepValues: boolean;

  constructor(keys: Counts, valueAt: (i: number) => V, keepValues = false) {
    super();
    this.#keys = keys;
    this.#valueAt = valueAt;
    this.#keepValues = keepValues;
  }

  override get size(): number {
    return super.size + this.#keys.length - this.#deleted.size;
  }

  override has(key: number): boolean {
    return super.has(key) || this.#find(key) >= 0;
  }

  override get(key: number): V | undefined {
    if (super.has(key)) return super.get(key);
    const at = this.#find(key);
    return at < 0 ? undefined : this.#valueOf(at);
  }

  override set(key: number, value: V): this {
    const at = this.#find(key);
    if (at < 0) return super.set(key, value);
    this.#changed.set(at, value);
    return this;
  }

  override delete(key: number): boolean {
    if (super.delete(key)) return true;
    const at = this.#find(key);
    if (at < 0) return false;
    this.#deleted.add(at);
    this.#changed.delete(at);
    return true;
  }

  override clear(): void {
    super.clear();
    this.#keys = new Uint32Array(0);
    this.#deleted.clear();
    this.#changed.clear();
  }

  override *entries(): MapIterator<[number, V]> {
    // By position, so entries deleted meanwhile (a vacuum deletes as it goes) are skipped.
    for (let at = 0; at < this.#keys.length; at++) if (!this.#deleted.has(at)) yield [this.#keys[at] as number, this.#valueOf(at)];
    yield* super.entries();
  }

  override *keys(): MapIterator<number> {
    for (const [key] of this.entries()) yield key;
  }

  override *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  override [Symbol.iterator](): MapIterator<[number, V]> {
    return this.entries();
  }

  override forEach(callback: (value: V, key: number, map: Map<number, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  #valueOf(at: number): V {
    if (this.#changed.has(at)) return this.#changed.get(at) as V;
    const value = this.#valueAt(at);
    if (this.#keepValues) this.#changed.set(at, value);
    return value;
  }

  /** The position of `key` among the packed entries not deleted, or -1. */
  #find(key: number): number {
    const keys = this.#keys;
    let low = 0;
    let high = keys.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const found = keys[middle] as number;
      if (found === key) return this.#deleted.has(middle) ? -1 : middle;
      if (found < key) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }
}

/** A Map filled by `fill` the first time it is used (the id → short id lookup, needed only to change the index). */
class DeferredMap<K, V> extends Map<K, V> {
  #fill: ((map: Map<K, V>) => void) | null;

  constructor(fill: (map: Map<K, V>) => void) {
    super();
    this.#fill = fill;
  }

  #filled(): void {
    const fill = this.#fill;
    if (!fill) return;
    this.#fill = null;
    fill(this);
  }

  override get size(): number {
    this.#filled();
    return super.size;
  }

  override has(key: K): boolean {
    this.#filled();
    return super.has(key);
  }

  override get(key: K): V | undefined {
    this.#filled();
    return super.get(key);
  }

  override set(key: K, value: V): this {
    this.#filled();
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.#filled();
    return super.delete(key);
  }

  override clear(): void {
    this.#fill = null;
    super.clear();
  }

  override entries(): MapIterator<[K, V]> {
    this.#filled();
    return super.entries();
  }

  override keys(): MapIterator<K> {
    this.#filled();
    return super.keys();
  }

  override values(): MapIterator<V> {
    this.#filled();
    return super.values();
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  override forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.#filled();
    super.forEach(callback, thisArg);
  }
}

/** Whether `values` increase (or, `orEqual`, never decrease): binary search relies on it. */
function increasing(values: Counts, orEqual = false): boolean {
  for (let i = 1; i < values.length; i++) {
    const previous = values[i - 1] as number;
    const value = values[i] as number;
    if (orEqual ? value < previous : value <= previous) return false;
  }
  return true;
}

/** A Map's entries, keys ascending. */
function ascending<V>(map: Map<number, V>): [number, V][] {
  return [...map].sort(([a], [b]) => a - b);
}

/** `values` (whole numbers, 0 to 2³² − 1) in the smallest unsigned array that holds them. */
function counts(values: ArrayLike<number>): Counts {
  let largest = 0;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, values[i] as number);
  if (largest > 0xffff_ffff) throw new RangeError(`a packed index holds numbers up to 2³² − 1, not ${largest}`);
  const Width = largest <= 0xff ? Uint8Array : largest <= 0xffff ? Uint16Array : Uint32Array;
  return Width.from(values);
}

/** A version 1 index in today's layout (a replica saved before version 2 loads as it did). */
function fromVersion1(old: PackedIndexVersion1): PackedIndex {
  const plusOne = (values: ArrayLike<number>, absent: (value: number) => boolean) => counts(Array.from(values, (value) => (absent(value) ? 0 : value + 1)));
  const damaged = (values: ArrayLike<number>) => Array.prototype.some.call(values, (value: number) => !Number.isNaN(value) && (value < 0 || !Number.isInteger(value) || value >= 0xffff_ffff));
  if (damaged(old.lengths) || damaged(old.segment)) throw new Error('the saved search index is damaged (stored fields)');
  return {
    ...old,
    version: PACKED_INDEX_VERSION,
    lengths: plusOne(old.lengths, Number.isNaN),
    conversation: plusOne(old.conversation, (value) => value === ABSENT_V1),
    segment: plusOne(old.segment, Number.isNaN),
  };
}

class IndexState<T> extends MiniSearch<T> {
  static pack(index: MiniSearch): PackedIndex {
    const state = index as unknown as IndexState<unknown>;
    const fields = Object.keys(state._fieldIds).length;

    const documents = ascending(state._documentIds);
    let end = 0;
    const idEnds: number[] = [];
    const ids = documents
      .map(([, id]) => {
        if (typeof id !== 'string') throw new TypeError(`a packed index holds string ids, not ${typeof id}`);
        idEnds.push((end += id.length));
        return id;
      })
      .join('');

    // MiniSearch records both for every document it holds, and drops both when it discards one.
    if (state._fieldLength.size !== documents.length || state._storedFields.size !== documents.length) {
      throw new Error(`a packed index needs field lengths and stored fields for each of its ${documents.length} documents`);
    }
    const lengths = new Array<number>(documents.length * fields).fill(0);
    const conversation = new Array<number>(documents.length);
    const segment = new Array<number>(documents.length);
    const conversations: string[] = [];
    const conversationIndex = new Map<string, number>();
    documents.forEach(([shortId], at) => {
      const values = state._fieldLength.get(shortId);
      const stored = state._storedFields.get(shortId);
      if (!values || !stored) throw new Error(`a packed index needs field lengths and stored fields for document ${shortId}`);
      values.forEach((value, field) => (lengths[at * fields + field] = value + 1));
      const { conversationId, segment: inSegment, ...rest } = stored as StoredFields;
      if (Object.keys(rest).length > 0) throw new TypeError(`a packed index stores conversationId and segment only, not ${Object.keys(rest).join(', ')}`);
      if (conversationId === undefined) conversation[at] = 0;
      else {
        let index = conversationIndex.get(conversationId);
        if (index === undefined) {
          index = conversations.push(conversationId) - 1;
          conversationIndex.set(conversationId, index);
        }
        conversation[at] = index + 1;
      }
      segment[at] = inSegment === undefined ? 0 : inSegment + 1;
    });

    const terms: string[] = [];
    const termFields: number[] = [];
    const postingDocs: number[] = [];
    const postingFreqs: number[] = [];
    for (const [term, data] of state._index) {
      terms.push(term);
      termFields.push(data.size);
      for (const [fieldId, freqs] of data) {
        termFields.push(fieldId, freqs.size);
        for (const [shortId, freq] of ascending(freqs)) {
          postingDocs.push(shortId);
          postingFreqs.push(freq);
        }
      }
    }

    return {
      version: PACKED_INDEX_VERSION,
      documentCount: state._documentCount,
      nextId: state._nextId,
      dirtCount: state._dirtCount,
      fieldIds: { ...state._fieldIds },
      averageFieldLength: [...state._avgFieldLength],
      shortIds: counts(documents.map(([shortId]) => shortId)),
      ids,
      idEnds: counts(idEnds),
      lengths: counts(lengths),
      conversations,
      conversation: counts(conversation),
      segment: counts(segment),
      terms,
      termFields: counts(termFields),
      postingDocs: counts(postingDocs),
      postingFreqs: counts(postingFreqs),
    };
  }

  static unpack<T>(saved: SavedPackedIndex, options: Options<T>): MiniSearch<T> {
    if (saved.version !== PACKED_INDEX_VERSION && saved.version !== 1) throw new Error(`the saved search index is packed as version ${String((saved as { version: unknown }).version)}, not ${PACKED_INDEX_VERSION}`);
    const packed = saved.version === 1 ? fromVersion1(saved) : saved;
    const index = new IndexState<T>(options);
    const fields = Object.keys(packed.fieldIds).length;
    index._documentCount = packed.documentCount;
    index._nextId = packed.nextId;
    index._dirtCount = packed.dirtCount;
    index._fieldIds = { ...packed.fieldIds };
    index._avgFieldLength = [...packed.averageFieldLength];

    const { shortIds, ids, idEnds, lengths, conversation, segment, conversations } = packed;
    const documents = shortIds.length;
    if (idEnds.length !== documents || (idEnds.at(-1) ?? 0) !== ids.length || !increasing(idEnds, true) || !increasing(shortIds)) {
      throw new Error('the saved search index is damaged (documents)');
    }
    if (lengths.length !== documents * fields) throw new Error('the saved search index is damaged (field lengths)');
    if (conversation.length !== documents || segment.length !== documents) throw new Error('the saved search index is damaged (stored fields)');
    if (conversation.some((at) => at > conversations.length)) throw new Error('the saved search index is damaged (conversations)');

    const idAt = (at: number): string => ids.slice(at === 0 ? 0 : idEnds[at - 1], idEnds[at]);
    const documentIds = new PackedMap(shortIds, idAt);
    index._documentIds = documentIds;
    index._idToShortId = new DeferredMap<unknown, number>((map) => {
      for (const [shortId, id] of documentIds) map.set(id, shortId);
    });
    index._fieldLength = new PackedMap(
      shortIds,
      (at) => {
        const values: number[] = [];
        for (let field = 0; field < fields; field++) {
          const value = lengths[at * fields + field] as number;
          if (value !== 0) values[field] = value - 1;
        }
        return values;
      },
      true,
    );
    index._storedFields = new PackedMap(
      shortIds,
      (at) => {
        const stored: StoredFields = {};
        const conversationAt = conversation[at] as number;
        if (conversationAt !== 0) stored.conversationId = conversations[conversationAt - 1] as string;
        const segmentAt = segment[at] as number;
        if (segmentAt !== 0) stored.segment = segmentAt - 1;
        return stored as Record<string, unknown>;
      },
      true,
    );

    const { terms, termFields, postingDocs, postingFreqs } = packed;
    let field = 0;
    let posting = 0;
    for (const term of terms) {
      const data = new Map<number, Map<number, number>>();
      const count = termFields[field++];
      if (count === undefined || field + 2 * count > termFields.length) throw new Error('the saved search index is damaged (terms)');
      for (let f = 0; f < count; f++) {
        const fieldId = termFields[field++] as number;
        const documents = termFields[field++] as number;
        const start = posting;
        posting += documents;
        if (posting > postingDocs.length || posting > postingFreqs.length) throw new Error('the saved search index is damaged (postings)');
        const docs = postingDocs.subarray(start, posting);
        if (!increasing(docs)) throw new Error('the saved search index is damaged (postings)');
        const freqs = postingFreqs.subarray(start, posting);
        data.set(fieldId, new PackedMap(docs, (at) => freqs[at] as number));
      }
      index._index.set(term, data);
    }
    if (field !== termFields.length || posting !== postingDocs.length) throw new Error('the saved search index is damaged (terms)');
    return index;
  }
}
/** `index`'s whole state, packed (ids must be strings; stored fields conversationId and segment only). */
export function packIndex(index: MiniSearch): PackedIndex {
  return IndexState.pack(index);
}

/** The index `packed` holds (in the current layout or one still read), searchable with `options` (those it was built with). */
export function unpackIndex<T>(packed: SavedPackedIndex, options: Options<T>): MiniSearch<T> {
  return IndexState.unpack(packed, options);
}
