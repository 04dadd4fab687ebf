// Which entry a map key holds once an update is in. Yjs keeps every value a key ever had in a
// list; the last one is the key's value and the others are deleted. A new value written on top
// of the current one lands last; one written without seeing it (on another device, at the same
// time) lands where Yjs's rule for concurrent inserts (YATA) puts it, and may land before it and
// change nothing. The rules need to tell which: a value-less entry that loses is harmless, one
// that lands last removes the key's value; deleting the current value is an overwrite only if
// the update's own value takes its place.
//
// The common case (each value written on top of the one before) is decided without looking at
// the list. Otherwise the rule is replayed on a copy of the key's list, within a budget shared by
// the whole update, so the cost stays linear in the update.
import * as Y from 'yjs';

/** Work one update may spend replaying concurrent inserts (list entries copied, items visited). */
export class ReplayBudget {
  #left: number;
  constructor(steps: number) {
    this.#left = steps;
  }
  spend(steps = 1): boolean {
    this.#left -= steps;
    return this.#left >= 0;
  }
}

/** A copy of one list entry (a struct, or part of one once split, as Yjs would split it). */
interface Node {
  client: number;
  clock: number;
  length: number;
  origin: Y.ID | null;
  rightOrigin: Y.ID | null;
  item: Y.Item;
  left: Node | null;
  right: Node | null;
}

const sameId = (a: Y.ID | null, b: Y.ID | null): boolean => a === b || (a !== null && b !== null && a.client === b.client && a.clock === b.clock);
const lastIdOf = (item: Y.Item): Y.ID => Y.createID(item.id.client, item.id.clock + item.length - 1);

/** A new item as it integrates: from clock `start` on (the part before is known already). */
export interface NewEntry {
  item: Y.Item;
  start: number;
}

function originOf({ item, start }: NewEntry): Y.ID | null {
  // Yjs integrates the unknown part of a partly known struct after its own known part.
  return start > item.id.clock ? Y.createID(item.id.client, start - 1) : item.origin;
}

/**
 * The item a key holds once `writes` (the update's new items for that key, in integration
 * order) are in, given `current`, the key's last item in `doc`. Null when the key holds nothing;
 * 'unknown' when telling would cost more than `budget` has left, or the items refer to entries
 * outside the key's list (shapes no honest client makes: callers decide against them). The
 * update's delete set is not applied: a caller compares what it deletes with the holder.
 */
export function holderAfter(doc: Y.Doc, current: Y.Item | undefined, writes: readonly NewEntry[], budget: ReplayBudget): Y.Item | null | 'unknown' {
  let holder: Y.Item | null = current ?? null;
  let simple = true;
  for (const write of writes) {
    if (write.item.rightOrigin !== null || !sameId(originOf(write), holder === null ? null : lastIdOf(holder))) {
      simple = false;
      break;
    }
    holder = write.item;
  }
  return simple ? holder : new KeyList(doc, current, budget).replay(writes);
}

/**
 * A copy of a key's list, made from the end backwards only as far as the replay needs: Yjs
 * places a new item by looking right of its origin, so the entries before the leftmost origin
 * are never visited (a value rewritten thousands of times costs only what is new).
 */
class KeyList {
  readonly #doc: Y.Doc;
  readonly #budget: ReplayBudget;
  /** Parts of each document struct copied so far, left to right. */
  readonly #copied = new Map<Y.Item, Node[]>();
  /** Entries this update adds, per client. */
  readonly #added = new Map<number, Node[]>();
  /** The leftmost entry copied (the list's head once `#complete`). */
  #first: Node | null = null;
  #complete: boolean;
  #exhausted = false;

  constructor(doc: Y.Doc, current: Y.Item | undefined, budget: ReplayBudget) {
    this.#doc = doc;
    this.#budget = budget;
    this.#complete = current === undefined;
    if (current !== undefined) this.#prepend(current);
  }

  #spend(steps = 1): boolean {
    if (!this.#budget.spend(steps)) this.#exhausted = true;
    return !this.#exhausted;
  }

  #prepend(item: Y.Item): void {
    const node: Node = { client: item.id.client, clock: item.id.clock, length: item.length, origin: item.origin, rightOrigin: item.rightOrigin, item, left: null, right: this.#first };
    if (this.#first) this.#first.left = node;
    this.#first = node;
    this.#copied.set(item, [node]);
    if (item.left === null) this.#complete = true;
  }

  /** Copies entries leftwards until `item` is copied (or the head, for null); false when out of budget. */
  #copyBack(item: Y.Item | null): boolean {
    while (!this.#complete && (item === null || !this.#copied.has(item))) {
      if (!this.#spend()) return false;
      this.#prepend((this.#first as Node).item.left as Y.Item);
    }
    return item === null || this.#copied.has(item);
  }

  /** The document struct holding `id`, if the document has it. */
  #structAt(id: Y.ID): Y.Item | Y.GC | undefined {
    if (id.clock >= Y.getState(this.#doc.store, id.client)) return undefined;
    return Y.getItem(this.#doc.store, id) as Y.Item | Y.GC;
  }

  /** The copied entry holding `id`, copying back to it when `copy` is set; undefined when it is not in this key's list. */
  #find(id: Y.ID, copy: boolean): Node | undefined {
    if (!this.#spend()) return undefined;
    const added = this.#added.get(id.client)?.find((n) => n.clock <= id.clock && id.clock < n.clock + n.length);
    if (added) return added;
    const struct = this.#structAt(id);
    if (!(struct instanceof Y.Item)) return undefined;
    if (copy && !this.#copyBack(struct)) return undefined;
    const parts = this.#copied.get(struct) ?? [];
    if (!this.#spend(parts.length)) return undefined;
    return parts.find((n) => n.clock <= id.clock && id.clock < n.clock + n.length);
  }

  /** Splits an entry as Yjs splits an item: the right part's origin is the left part's last id. */
  #split(node: Node, diff: number): Node {
    const right: Node = {
      client: node.client,
      clock: node.clock + diff,
      length: node.length - diff,
      origin: Y.createID(node.client, node.clock + diff - 1),
      rightOrigin: node.rightOrigin,
      item: node.item,
      left: node,
      right: node.right,
    };
    if (node.right) node.right.left = right;
    node.right = right;
    node.length = diff;
    const parts = this.#copied.get(node.item) ?? this.#added.get(node.client) ?? [];
    parts.splice(parts.indexOf(node) + 1, 0, right);
    return right;
  }

  replay(writes: readonly NewEntry[]): Y.Item | null | 'unknown' {
    for (const write of writes) {
      if (!this.#insert(write)) return 'unknown';
    }
    let last = this.#first;
    while (last !== null && last.right !== null) last = last.right;
    return last === null ? null : last.item;
  }

  /** Yjs's Item.integrate for a map entry, on the copy. False when it cannot be told. */
  #insert(write: NewEntry): boolean {
    const { item, start } = write;
    const origin = originOf(write);
    let left: Node | null = null;
    if (origin !== null) {
      const found = this.#find(origin, true);
      if (!found) return false;
      if (origin.clock < found.clock + found.length - 1) this.#split(found, origin.clock - found.clock + 1);
      left = found;
    } else if (!this.#copyBack(null)) {
      return false;
    }
    let right: Node | null = null;
    if (item.rightOrigin !== null) {
      const found = this.#find(item.rightOrigin, true);
      if (!found) return false;
      right = item.rightOrigin.clock > found.clock ? this.#split(found, item.rightOrigin.clock - found.clock) : found;
    }
    const node: Node = { client: item.id.client, clock: start, length: item.length - (start - item.id.clock), origin, rightOrigin: item.rightOrigin, item, left: null, right: null };
    if ((left === null && (right === null || right.left !== null)) || (left !== null && left.right !== right)) {
      const conflicting = new Set<Node>();
      const beforeOrigin = new Set<Node>();
      for (let o = left !== null ? left.right : this.#first; o !== null && o !== right; o = o.right) {
        if (!this.#spend()) return false;
        beforeOrigin.add(o);
        conflicting.add(o);
        if (sameId(origin, o.origin)) {
          if (o.client < node.client) {
            left = o;
            conflicting.clear();
          } else if (sameId(item.rightOrigin, o.rightOrigin)) {
            break;
          }
        } else if (o.origin !== null) {
          // An origin left of what was copied is not among the entries visited.
          const originNode = this.#find(o.origin, false);
          if (this.#exhausted) return false;
          if (originNode === undefined || !beforeOrigin.has(originNode)) break;
          if (!conflicting.has(originNode)) {
            left = o;
            conflicting.clear();
          }
        } else {
          break;
        }
      }
    }
    node.left = left;
    node.right = left !== null ? left.right : this.#first;
    if (left !== null) left.right = node;
    else this.#first = node;
    if (node.right !== null) node.right.left = node;
    const added = this.#added.get(node.client) ?? [];
    added.push(node);
    this.#added.set(node.client, added);
    return true;
  }
}
