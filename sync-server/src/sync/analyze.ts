// Works out what a client's Yjs update would do to a document, without applying it: whether it
// can integrate now (every dependency is in the document or earlier in the update), which map
// entries it writes and which live entries it deletes. The rules (validate.ts) then judge those
// effects. This is a replay of Yjs's own integration order, so nothing Yjs would integrate goes
// unjudged, and an update that cannot integrate yet is held instead of half-applied.
//
// Cost is linear in the update and never recursive: structs are indexed per client in clock
// order and found by binary search (a run of merged structs is found by any clock inside it),
// each struct's site is resolved once, when it integrates, from its origin's site.
import * as Y from 'yjs';
import { Limits, isServerClientId } from '@outpost/shared-schema';
import { ReplayBudget, holderAfter, type NewEntry } from './keyOrder.ts';
import { Refused } from './refusals.ts';
import { groupClients } from './updateGroups.ts';

/** Where a map entry lives: a root map and a key. */
export interface Site {
  root: string;
  key: string;
}

/** One effect of an update on one map entry. */
export interface Effect {
  item: Y.Item;
  site: Site;
}

export interface Analysis {
  /** False when some struct or deletion depends on something the document does not have yet. */
  integrable: boolean;
  /** New items (or the new part of items), in integration order. Only when integrable. */
  writes: Effect[];
  /** Items live now (or new in this update) that the update deletes. Only when integrable. */
  deletes: Effect[];
  /** Client ids of the new structs. */
  clients: Set<number>;
  /** Nothing new: every struct and deletion is known already. */
  empty: boolean;
  /** Some struct is (partly) in the document already; what is logged leaves it out. Only when integrable. */
  repeats: boolean;
  /**
   * The item a key holds once the update's writes are in (before its delete set), and whether it
   * is live afterwards ('unknown' for shapes no honest client makes, see keyOrder.ts). Deleting
   * any other item of the key changes nothing: Yjs deletes every value but the last one anyway.
   * Only when integrable.
   */
  holderOf(site: Site): KeyHolder | 'unknown';
}

export interface KeyHolder {
  item: Y.Item | null;
  live: boolean;
}

/** Caps on what one update may hold, so a small frame cannot make the server do a lot of work. */
export const UpdateCaps = {
  structs: 20_000,
  deleteRanges: 20_000,
  /** Items a delete set may touch. */
  deletedItems: 50_000,
  /** Sum of struct lengths (a deleted run is one struct of length n). */
  totalLength: 1_000_000,
  /** New Yjs client ids one update may introduce (an offline session restarted many times). */
  newClients: 32,
} as const;

type Struct = Y.Item | Y.GC | Y.Skip;

const malformed = (what: string) => new Refused('invalidInput', 'ruleBroken', `malformed update (${what})`);
const ruleBroken = (what: string) => new Refused('forbidden', 'ruleBroken', what);

/** The first index in `structs` (sorted by clock, non-overlapping) whose range holds `clock`, or -1. */
function indexOf(structs: readonly Struct[], clock: number): number {
  let low = 0;
  let high = structs.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const struct = structs[mid] as Struct;
    if (clock < struct.id.clock) high = mid - 1;
    else if (clock >= struct.id.clock + struct.length) low = mid + 1;
    else return mid;
  }
  return -1;
}

/** The first index whose struct ends after `clock` (for walking a range), or structs.length. */
function firstEndingAfter(structs: readonly Struct[], clock: number): number {
  let low = 0;
  let high = structs.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const struct = structs[mid] as Struct;
    if (struct.id.clock + struct.length <= clock) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The site of an item already in the document: its root map and key. */
function siteInDocument(item: Y.Item): Site {
  const parent = item.parent;
  if (!(parent instanceof Y.AbstractType) || parent._item !== null || item.parentSub === null) {
    throw ruleBroken('nested types are not allowed');
  }
  return { root: Y.findRootTypeKey(parent), key: item.parentSub };
}

/** The refusal of an update with structs under the server's client ids (the write path tells it apart). */
class ServerStructsRefused extends Refused {
  constructor() {
    super('forbidden', 'ruleBroken', 'this part of the document is written by the server only');
  }
}

/** True when `error` refused an update for structs under the server's client ids. */
export function refusedForServerStructs(error: unknown): boolean {
  return error instanceof ServerStructsRefused;
}

/**
 * Decodes `update` and replays its integration against `doc`. Throws Refused for malformed or
 * oversized updates and for structs no honest client writes (nested types, GC or skip structs,
 * the server's client ids); a missing dependency is not an error: `integrable` is false.
 */
export function analyzeUpdate(doc: Y.Doc, update: Uint8Array): Analysis {
  if (update.byteLength > Limits.updateBytes) throw new Refused('tooLarge', 'ruleBroken', `an update holds at most ${Limits.updateBytes} bytes`);
  let decoded: { structs: Struct[]; ds: { clients: Map<number, { clock: number; len: number }[]> } };
  let groups: number[];
  try {
    decoded = Y.decodeUpdate(update) as unknown as typeof decoded;
    groups = groupClients(update);
  } catch (error) {
    throw malformed((error as Error).message);
  }
  // Yjs applies only the last group of structs of a client named twice: the judge would not see
  // what is applied (Yjs's own encoders write one group per client).
  if (new Set(groups).size !== groups.length) throw malformed('a client’s structs in two groups');
  // Yjs's encoders write the highest client id first, and Y.mergeUpdates (which joins an update
  // with the server's part of its log entry, and compacts the log) silently drops the structs of
  // a client named out of that order: a message would be numbered that no document holds.
  if (groups.some((client, i) => i > 0 && client > (groups[i - 1] as number))) throw malformed('clients out of order (the highest client id comes first)');
  if (decoded.structs.length > UpdateCaps.structs) throw new Refused('tooLarge', 'ruleBroken', `an update holds at most ${UpdateCaps.structs} structs`);

  // Index the update's structs per client, in clock order, without overlaps.
  const byClient = new Map<number, Struct[]>();
  let totalLength = 0;
  for (const struct of decoded.structs) {
    totalLength += struct.length;
    if (!(struct instanceof Y.Item)) throw ruleBroken(struct instanceof Y.GC ? 'garbage-collected structs are not accepted from clients' : 'updates with gaps (skips) are not accepted');
    if (isServerClientId(struct.id.client)) throw new ServerStructsRefused();
    const list = byClient.get(struct.id.client);
    if (list) list.push(struct);
    else byClient.set(struct.id.client, [struct]);
  }
  if (totalLength > UpdateCaps.totalLength) throw new Refused('tooLarge', 'ruleBroken', 'an update expands beyond the allowed length');
  for (const list of byClient.values()) {
    list.sort((a, b) => a.id.clock - b.id.clock);
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1] as Struct;
      if ((list[i] as Struct).id.clock < previous.id.clock + previous.length) throw malformed('overlapping structs');
    }
  }

  const store = doc.store;
  const documentState = new Map<number, number>();
  const docState = (client: number) => {
    let state = documentState.get(client);
    if (state === undefined) documentState.set(client, (state = Y.getState(store, client)));
    return state;
  };
  /** The simulated state per client: the document's, advanced as the update's structs integrate. */
  const state = new Map<number, number>();
  const stateOf = (client: number) => state.get(client) ?? docState(client);
  const sites = new Map<Y.Item, Site | null>();

  /** The site of the struct holding `id` (known to be integrated), or null for a GC (no effect). */
  const siteAt = (id: Y.ID): Site | null => {
    if (id.clock < docState(id.client)) {
      const struct = Y.getItem(store, id) as Struct;
      return struct instanceof Y.Item ? siteInDocument(struct) : null;
    }
    const list = byClient.get(id.client) ?? [];
    const struct = list[indexOf(list, id.clock)];
    if (!(struct instanceof Y.Item)) return null;
    const site = sites.get(struct);
    if (site === undefined) throw new Error('invariant failed: a dependency was integrated without a site');
    return site;
  };

  const clients = new Set<number>();
  const writes: Effect[] = [];
  const position = new Map<number, number>();
  const blockedOn = new Map<number, Set<number>>();
  const queue = [...byClient.keys()];
  let integrable = true;
  let repeats = false;

  /** A dependency of `item` on another client that is not integrated yet, if any. */
  const missingDependency = (item: Y.Item): number | null => {
    for (const dep of [item.origin, item.rightOrigin, item.parent instanceof Y.ID ? item.parent : null]) {
      if (dep === null) continue;
      if (dep.client === item.id.client) {
        // Yjs resolves a client's own origins without checking them: they must lie before the item.
        if (dep.clock >= item.id.clock) throw malformed('an item refers to a later item of its own client');
        continue;
      }
      if (dep.clock >= stateOf(dep.client)) return dep.client;
    }
    return null;
  };

  while (queue.length > 0) {
    const client = queue.pop() as number;
    const list = byClient.get(client) as Struct[];
    let index = position.get(client) ?? 0;
    for (; index < list.length; index++) {
      const item = list[index] as Y.Item;
      const current = stateOf(client);
      if (item.id.clock > current) break; // a gap in this client's clocks: it cannot integrate
      // Yjs resolves the origins of a struct even when it has it already (and skips it only then):
      // they are checked the same way, or a bogus one would throw in Yjs or leave the update pending.
      const missing = missingDependency(item);
      if (missing !== null) {
        let waiting = blockedOn.get(missing);
        if (!waiting) blockedOn.set(missing, (waiting = new Set()));
        waiting.add(client);
        break;
      }
      if (item.id.clock < current) repeats = true;
      if (item.id.clock + item.length <= current) continue; // known already
      // It integrates now; its site comes from its origin, right origin or parent, like in Yjs.
      let site: Site | null;
      if (item.origin !== null || item.rightOrigin !== null) {
        const left = item.origin === null ? undefined : siteAt(item.origin);
        const right = item.rightOrigin === null ? undefined : siteAt(item.rightOrigin);
        site = left === null || right === null ? null : (left ?? right ?? null);
      } else if (typeof item.parent === 'string') {
        if (item.parentSub === null) throw ruleBroken(`only map entries are allowed (root "${item.parent}")`);
        site = { root: item.parent, key: item.parentSub };
      } else {
        throw ruleBroken('nested types are not allowed');
      }
      if (item.id.clock < current) {
        // Part of it is known: Yjs integrates the rest right after this client's own last item,
        // whatever its origin says, but under the parent and key its origin names — so a forged
        // origin would put it in another key's place and delete that item (an honest resend of a
        // run names the run's own key either way).
        const own = siteAt(Y.createID(client, current - 1));
        if (own?.root !== site?.root || own?.key !== site?.key) throw malformed('a struct resent in part, with an origin elsewhere than its own last item');
      }
      sites.set(item, site);
      clients.add(client);
      if (site !== null) writes.push({ item, site });
      state.set(client, item.id.clock + item.length);
      const waiting = blockedOn.get(client);
      if (waiting) {
        blockedOn.delete(client);
        queue.push(...waiting);
      }
    }
    position.set(client, index);
  }
  for (const [client, list] of byClient) if ((position.get(client) ?? 0) < list.length) integrable = false;

  // Deletions: only of items that exist once the update is in; visit what exists, never each clock.
  const deletes: Effect[] = [];
  let ranges = 0;
  let visited = 0;
  let deletesSomething = false;
  const visit = (struct: Struct, site: Site | null | undefined) => {
    if (++visited > UpdateCaps.deletedItems) throw new Refused('tooLarge', 'ruleBroken', 'an update deletes too many items');
    if (!(struct instanceof Y.Item) || struct.deleted || site === null || site === undefined) return;
    if (struct.content instanceof Y.ContentDeleted) return;
    deletes.push({ item: struct, site });
  };
  for (const [client, clientRanges] of decoded.ds.clients) {
    const stored = store.clients.get(client) ?? [];
    const known = docState(client);
    const list = byClient.get(client) ?? [];
    for (const range of clientRanges) {
      if (++ranges > UpdateCaps.deleteRanges) throw new Refused('tooLarge', 'ruleBroken', 'an update holds too many delete ranges');
      // Yjs's own encoders never write one; applying one past the document's state throws.
      if (range.len <= 0) throw malformed('an empty delete range');
      const end = range.clock + range.len;
      if (end > stateOf(client)) {
        integrable = false;
        continue;
      }
      if (range.clock < known) {
        for (let i = Math.max(0, Y.findIndexSS(stored, range.clock)); i < stored.length && (stored[i] as Struct).id.clock < end; i++) {
          const struct = stored[i] as Struct;
          if (struct instanceof Y.Item && !struct.deleted) {
            deletesSomething = true;
            visit(struct, siteInDocument(struct));
          } else visited += 1;
        }
      }
      if (end > known) {
        for (let i = firstEndingAfter(list, Math.max(range.clock, known)); i < list.length && (list[i] as Struct).id.clock < end; i++) {
          const struct = list[i] as Struct;
          deletesSomething = true;
          visit(struct, sites.get(struct as Y.Item));
        }
      }
    }
  }
  if (clients.size > UpdateCaps.newClients) throw new Refused('tooLarge', 'ruleBroken', `an update may bring at most ${UpdateCaps.newClients} new Yjs client ids`);
  if (!integrable) return { integrable, writes: [], deletes: [], clients, empty: false, repeats: false, holderOf: () => 'unknown' };
  return { integrable, writes, deletes, clients, empty: clients.size === 0 && !deletesSomething, repeats, holderOf: holders(doc, writes, deletes, docState) };
}

const siteKey = (site: Site) => `${site.root}\u0000${site.key}`;

/** `Analysis.holderOf` for an integrable update: per key, once, within one budget for the update. */
function holders(doc: Y.Doc, writes: readonly Effect[], deletes: readonly Effect[], docState: (client: number) => number): Analysis['holderOf'] {
  const deleted = new Set(deletes.map(({ item }) => item));
  const budget = new ReplayBudget(UpdateCaps.structs);
  let bySite: Map<string, NewEntry[]> | undefined;
  const known = new Map<string, KeyHolder | 'unknown'>();
  return (site) => {
    const key = siteKey(site);
    const cached = known.get(key);
    if (cached !== undefined) return cached;
    if (!bySite) {
      bySite = new Map();
      for (const { item, site: at } of writes) {
        const entries = bySite.get(siteKey(at)) ?? [];
        entries.push({ item, start: Math.max(item.id.clock, docState(item.id.client)) });
        bySite.set(siteKey(at), entries);
      }
    }
    // The root is read without creating it: a hostile root name must not add types to the document.
    const root = doc.share.get(site.root) as unknown as { _map: Map<string, Y.Item> } | undefined;
    const holder = holderAfter(doc, root?._map.get(site.key), bySite.get(key) ?? [], budget);
    const result: KeyHolder | 'unknown' =
      holder === 'unknown'
        ? 'unknown'
        : { item: holder, live: holder !== null && !holder.deleted && !(holder.content instanceof Y.ContentDeleted) && !deleted.has(holder) };
    known.set(key, result);
    return result;
  };
}
