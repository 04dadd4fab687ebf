// A conversation's messages in screen order, kept up to date from Yjs transactions: a change
// reads only the messages it touched and moves them in a sorted array (binary search), so an
// edit, a reaction or a new message costs O(change), not a re-read of the whole history.
import * as Y from 'yjs';
import { SegmentRoots, parseReactionKey, readMessage, segmentMaps, type MessageId, type UserId } from '@outpost/shared-schema';
import { compareMessages, type MessageItem } from './messageOrder.ts';

/** How a message read from a segment becomes an item on screen (its status depends on the client). */
export type ItemOf = (n: number, seq: number | null, view: NonNullable<ReturnType<typeof readMessage>>) => MessageItem;

interface SegmentState {
  doc: Y.Doc;
  /** messageId → its reaction keys in this segment. */
  reactions: Map<string, Set<string>>;
  ids: Set<string>;
  stop: () => void;
}

/** Changes of more messages than this at once are merged in one pass instead of moved one by one. */
const BULK = 64;

export class Timeline {
  readonly #itemOf: ItemOf;
  readonly #onChange: () => void;
  readonly #segments = new Map<number, SegmentState>();
  readonly #items = new Map<string, MessageItem>();
  #sorted: MessageItem[] = [];
  #snapshot: readonly MessageItem[] | null = null;

  constructor(itemOf: ItemOf, onChange: () => void) {
    this.#itemOf = itemOf;
    this.#onChange = onChange;
  }

  /** Follows segment n's document (replacing the one followed before, if any). */
  follow(n: number, doc: Y.Doc): void {
    this.unfollow(n);
    const state: SegmentState = { doc, reactions: new Map(), ids: new Set(), stop: () => {} };
    const onTransaction = (transaction: Y.Transaction) => {
      const touched = new Set<string>();
      for (const [type, keys] of transaction.changed) {
        const root = rootName(doc, type);
        if (root === null) continue;
        for (const key of keys) {
          if (key === null) continue;
          if (root === SegmentRoots.reactions) {
            const parsed = parseReactionKey(key);
            if (!parsed) continue;
            let set = state.reactions.get(parsed.messageId);
            if (segmentMaps(doc).reactions.has(key)) {
              if (!set) state.reactions.set(parsed.messageId, (set = new Set()));
              set.add(key);
            } else set?.delete(key);
            touched.add(parsed.messageId);
          } else touched.add(key);
        }
      }
      if (touched.size > 0 && this.#update(n, state, touched)) this.#changed();
    };
    doc.on('afterTransaction', onTransaction);
    state.stop = () => doc.off('afterTransaction', onTransaction);
    this.#segments.set(n, state);
    for (const key of segmentMaps(doc).reactions.keys()) {
      const parsed = parseReactionKey(key);
      if (!parsed) continue;
      let set = state.reactions.get(parsed.messageId);
      if (!set) state.reactions.set(parsed.messageId, (set = new Set()));
      set.add(key);
    }
    if (this.#update(n, state, segmentMaps(doc).messages.keys())) this.#changed();
  }

  unfollow(n: number): void {
    const state = this.#segments.get(n);
    if (!state) return;
    state.stop();
    this.#segments.delete(n);
    for (const id of state.ids) this.#remove(id);
    if (state.ids.size > 0) this.#changed();
  }

  /** Reads every followed message again (what decides an item's status changed: a refusal). */
  refresh(): void {
    let changed = false;
    for (const [n, state] of this.#segments) changed = this.#update(n, state, [...state.ids]) || changed;
    if (changed) this.#changed();
  }

  /** The messages in order; the same array while nothing changed. */
  items(): readonly MessageItem[] {
    this.#snapshot ??= this.#sorted.slice();
    return this.#snapshot;
  }

  /** The numbered messages from the newest back, for counts that only look at the recent end. */
  *newestFirst(): IterableIterator<MessageItem> {
    for (let i = this.#sorted.length - 1; i >= 0; i--) yield this.#sorted[i] as MessageItem;
  }

  get(id: string): MessageItem | undefined {
    return this.#items.get(id);
  }

  /** Messages followed. */
  get size(): number {
    return this.#sorted.length;
  }

  /** The message at a position of the order (what `items()` would hold there), without a copy. */
  at(index: number): MessageItem | undefined {
    return this.#sorted[index];
  }

  /** The position of a message in the order, or -1 (binary search). */
  indexOf(id: string): number {
    const item = this.#items.get(id);
    if (!item) return -1;
    const at = this.#lowerBound((other) => compareMessages(other, item) < 0);
    return this.#sorted[at] === item ? at : this.#sorted.indexOf(item);
  }

  /** The first position whose message is unnumbered or numbered after `seq` (numbered ones come first, by seq). */
  firstAfter(seq: number): number {
    return this.#lowerBound((item) => item.seq !== null && item.seq <= seq);
  }

  /** The first position where `before` is false (it must be true for a prefix of the order). */
  #lowerBound(before: (item: MessageItem) => boolean): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.#sorted[mid] as MessageItem)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Updates the given messages of segment n; returns whether anything changed. A few are moved
   * one by one (binary search); many at once (a segment loading) are sorted among themselves and
   * merged with the rest in one pass, so loading a history is O(n log n), not O(n²).
   */
  #update(n: number, state: SegmentState, ids: Iterable<string>): boolean {
    const maps = segmentMaps(state.doc);
    const fresh: MessageItem[] = [];
    for (const id of ids) {
      const view = readMessage(state.doc, id as MessageId, groupReactions(state.reactions.get(id)));
      if (!view) continue;
      fresh.push(this.#itemOf(n, maps.seq.get(id)?.seq ?? null, view));
      state.ids.add(id);
    }
    if (fresh.length === 0) return false;
    if (fresh.length <= BULK) {
      for (const item of fresh) {
        this.#remove(item.id);
        this.#insert(item);
      }
      return true;
    }
    const replaced = new Set<MessageItem>();
    for (const item of fresh) {
      const old = this.#items.get(item.id);
      if (old) replaced.add(old);
      this.#items.set(item.id, item);
    }
    fresh.sort(compareMessages);
    const kept = replaced.size > 0 ? this.#sorted.filter((item) => !replaced.has(item)) : this.#sorted;
    const merged: MessageItem[] = new Array<MessageItem>(kept.length + fresh.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < kept.length && j < fresh.length) merged[k++] = compareMessages(kept[i] as MessageItem, fresh[j] as MessageItem) <= 0 ? (kept[i++] as MessageItem) : (fresh[j++] as MessageItem);
    while (i < kept.length) merged[k++] = kept[i++] as MessageItem;
    while (j < fresh.length) merged[k++] = fresh[j++] as MessageItem;
    this.#sorted = merged;
    return true;
  }

  #insert(item: MessageItem): void {
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareMessages(sorted[mid] as MessageItem, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    sorted.splice(lo, 0, item);
    this.#items.set(item.id, item);
  }

  #remove(id: string): void {
    const old = this.#items.get(id);
    if (!old) return;
    this.#items.delete(id);
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareMessages(sorted[mid] as MessageItem, old) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (sorted[lo] === old) sorted.splice(lo, 1);
    else sorted.splice(sorted.indexOf(old), 1); // unreachable while compareMessages is a total order
  }

  #changed(): void {
    this.#snapshot = null;
    this.#onChange();
  }

  close(): void {
    for (const state of this.#segments.values()) state.stop();
    this.#segments.clear();
  }
}

function rootName(doc: Y.Doc, type: object): string | null {
  if ((type as { _item: unknown })._item !== null) return null;
  for (const [name, root] of doc.share) if (root === type) return name;
  return null;
}

function groupReactions(keys: Set<string> | undefined): Record<string, UserId[]> {
  const out: Record<string, UserId[]> = {};
  if (!keys) return out;
  for (const key of keys) {
    const parsed = parseReactionKey(key);
    if (parsed) (out[parsed.emoji] ??= []).push(parsed.userId);
  }
  return out;
}
