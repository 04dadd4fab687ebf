// The saved search index as typed arrays instead of MiniSearch's JSON. MiniSearch loads its JSON
// by turning every term's postings, every document's id, field lengths and stored fields into Map
// entries, key by string key: half a second for 100,000 messages in Node, a second in Chromium,
// before the JSON is even parsed; filling the same Maps from typed arrays is barely faster.
// Packed, the state is a few flat arrays that IndexedDB copies as they are, and unpacking builds
// no entries at all: each Map reads its packed arrays by binary search, and keeps later changes
// as any Map does. It reads and writes the state MiniSearch keeps `protected` for subclasses
// (minisearch 7), nothing private.
import MiniSearch, { type Options } from 'minisearch';

/** Bumped when the layout below changes; an unknown version is not unpacked (the index is rebuilt). */
export const PACKED_INDEX_VERSION = 1;

/** No value (a stored field not set, a field length not recorded). */
const ABSENT = 0xffff_ffff;

export interface PackedIndex {
  version: typeof PACKED_INDEX_VERSION;
  documentCount: number;
  nextId: number;
  dirtCount: number;
  fieldIds: Record<string, number>;
  averageFieldLength: number[];
  /** Documents: short ids, ascending, and their ids: the n-th is `ids.slice(idEnds[n - 1] ?? 0, idEnds[n])`. */
  shortIds: Uint32Array;
  ids: string;
  idEnds: Uint32Array;
  /** Each document's field lengths, one value per field (NaN: none). */
  lengths: Float64Array;
  /** Each document's stored fields (conversationId, segment): an index into `conversations` (or ABSENT), and a number (or NaN). */
  conversations: string[];
  conversation: Uint32Array;
  /** NaN: no segment (entries saved before layout 6). */
  segment: Float64Array;
  /**
   * The inverted index: per term, its number of fields, then (field id, number of documents) for
   * each; then every (document, frequency), term by term and field by field, documents ascending.
   */
  terms: string[];
  termFields: Uint32Array;
  postingDocs: Uint32Array;
  postingFreqs: Uint32Array;
}

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
  #keys: Uint32Array;
  readonly #valueAt: (i: number) => V;
  /** Positions of packed entries deleted since. */
  readonly #deleted = new Set<number>();
  /** Values of packed entries set since (or handed out, when they are kept), by position. */
  readonly #changed = new Map<number, V>();
  /** Objects handed out are kept, so a change made to one is there on the next get. */
  readonly #keepValues: boolean;

  constructor(keys: Uint32Array, valueAt: (i: number) => V, keepValues = false) {
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
function increasing(values: Uint32Array, orEqual = false): boolean {
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

class IndexState<T> extends MiniSearch<T> {
  static pack(index: MiniSearch): PackedIndex {
    const state = index as unknown as IndexState<unknown>;
    const fields = Object.keys(state._fieldIds).length;

    const documents = ascending(state._documentIds);
    const shortIds = Uint32Array.from(documents, ([shortId]) => shortId);
    const idEnds = new Uint32Array(documents.length);
    let end = 0;
    const ids = documents
      .map(([, id], at) => {
        if (typeof id !== 'string') throw new TypeError(`a packed index holds string ids, not ${typeof id}`);
        end += id.length;
        idEnds[at] = end;
        return id;
      })
      .join('');

    // MiniSearch records both for every document it holds, and drops both when it discards one.
    if (state._fieldLength.size !== documents.length || state._storedFields.size !== documents.length) {
      throw new Error(`a packed index needs field lengths and stored fields for each of its ${documents.length} documents`);
    }
    const lengths = new Float64Array(documents.length * fields).fill(Number.NaN);
    const conversation = new Uint32Array(documents.length);
    const segment = new Float64Array(documents.length);
    const conversations: string[] = [];
    const conversationIndex = new Map<string, number>();
    documents.forEach(([shortId], at) => {
      const values = state._fieldLength.get(shortId);
      const stored = state._storedFields.get(shortId);
      if (!values || !stored) throw new Error(`a packed index needs field lengths and stored fields for document ${shortId}`);
      values.forEach((value, field) => (lengths[at * fields + field] = value));
      const { conversationId, segment: inSegment, ...rest } = stored as StoredFields;
      if (Object.keys(rest).length > 0) throw new TypeError(`a packed index stores conversationId and segment only, not ${Object.keys(rest).join(', ')}`);
      if (conversationId === undefined) conversation[at] = ABSENT;
      else {
        let index = conversationIndex.get(conversationId);
        if (index === undefined) {
          index = conversations.push(conversationId) - 1;
          conversationIndex.set(conversationId, index);
        }
        conversation[at] = index;
      }
      segment[at] = inSegment ?? Number.NaN;
    });

    const terms: string[] = [];
    const termFields: number[] = [];
    const postings: [number, number][][] = [];
    let count = 0;
    for (const [term, data] of state._index) {
      terms.push(term);
      termFields.push(data.size);
      for (const [fieldId, freqs] of data) {
        termFields.push(fieldId, freqs.size);
        postings.push(ascending(freqs));
        count += freqs.size;
      }
    }
    const postingDocs = new Uint32Array(count);
    const postingFreqs = new Uint32Array(count);
    let at = 0;
    for (const list of postings) {
      for (const [shortId, freq] of list) {
        postingDocs[at] = shortId;
        postingFreqs[at] = freq;
        at += 1;
      }
    }

    return {
      version: PACKED_INDEX_VERSION,
      documentCount: state._documentCount,
      nextId: state._nextId,
      dirtCount: state._dirtCount,
      fieldIds: { ...state._fieldIds },
      averageFieldLength: [...state._avgFieldLength],
      shortIds,
      ids,
      idEnds,
      lengths,
      conversations,
      conversation,
      segment,
      terms,
      termFields: Uint32Array.from(termFields),
      postingDocs,
      postingFreqs,
    };
  }

  static unpack<T>(packed: PackedIndex, options: Options<T>): MiniSearch<T> {
    if (packed.version !== PACKED_INDEX_VERSION) throw new Error(`the saved search index is packed as version ${String(packed.version)}, not ${PACKED_INDEX_VERSION}`);
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
    if (conversation.some((at) => at !== ABSENT && at >= conversations.length)) throw new Error('the saved search index is damaged (conversations)');

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
          if (!Number.isNaN(value)) values[field] = value;
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
        if (conversationAt !== ABSENT) stored.conversationId = conversations[conversationAt] as string;
        if (!Number.isNaN(segment[at])) stored.segment = segment[at] as number;
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

/** The index `packed` holds, searchable with `options` (those it was built with). */
export function unpackIndex<T>(packed: PackedIndex, options: Options<T>): MiniSearch<T> {
  return IndexState.unpack(packed, options);
}
