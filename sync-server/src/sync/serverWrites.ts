// The server's own writes, encoded as a Yjs update against a document's current state without
// touching it: the write path logs the bytes first and applies exactly them afterwards, so what
// clients receive is always what the log holds. Map entries are set with the server's client id
// (above any client's, see serverClients.ts); deleting needs no client id at all.
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** Set `root[key]` to `value`, or remove it when `value` is undefined. */
export interface MapOp {
  root: string;
  key: string;
  value?: unknown;
}

/** A run of clocks of one client to delete. */
export interface DeleteRange {
  client: number;
  clock: number;
  len: number;
}

function latestItem(doc: Y.Doc, root: string, key: string): Y.Item | undefined {
  return (doc.getMap(root) as unknown as { _map: Map<string, Y.Item> })._map.get(key);
}

/**
 * Encodes `ops` (and extra deletions) as one update from `client` at its next clock in `doc`.
 * Returns null when there is nothing to write (every value already in place).
 */
export function encodeServerWrite(doc: Y.Doc, client: number, ops: readonly MapOp[], extraDeletes: readonly DeleteRange[] = []): Uint8Array | null {
  const firstClock = Y.getState(doc.store, client);
  let clock = firstClock;
  const items: Y.Item[] = [];
  const deletes: DeleteRange[] = [...extraDeletes];
  /** Per `root/key`, the id this write last set there (later sets in the same write follow it). */
  const written = new Map<string, Y.ID>();
  for (const { root, key, value } of ops) {
    const slot = `${root}/${key}`;
    const current = latestItem(doc, root, key);
    const previousId = written.get(slot) ?? (current ? current.lastId : null);
    if (value === undefined) {
      if (written.has(slot)) throw new Error(`invariant failed: ${slot} set and removed in one server write`);
      if (current && !current.deleted) deletes.push({ client: current.id.client, clock: current.id.clock, len: current.length });
      continue;
    }
    const id = Y.createID(client, clock);
    // With an origin the parent and key come from it (that is how Yjs overwrites a key);
    // without one they are written out.
    items.push(new Y.Item(id, null, previousId, null, null, previousId ? null : (root as unknown as Y.AbstractType<unknown>), key, new Y.ContentAny([value])));
    written.set(slot, id);
    clock += 1;
  }
  if (items.length === 0 && deletes.length === 0) return null;
  return encode(client, firstClock, items, deletes);
}

/**
 * A map entry written from `clock` on: under a key that holds nothing yet (a message's sequence
 * number), or over the value with id `origin` (a deleted message's tombstone over its entry).
 */
export interface NewEntry {
  root: string;
  key: string;
  value: unknown;
  origin?: { client: number; clock: number };
}

/**
 * Encodes map entries from `client` at `clock`, and deletions: what a commit builds once it
 * knows the numbers, without the document.
 */
export function encodeNewEntries(client: number, clock: number, entries: readonly NewEntry[], deletes: readonly DeleteRange[] = []): Uint8Array | null {
  if (entries.length === 0 && deletes.length === 0) return null;
  const items = entries.map(({ root, key, value, origin }, i) => {
    const left = origin ? Y.createID(origin.client, origin.clock) : null;
    // With an origin the parent and key come from it (that is how Yjs overwrites a key).
    return new Y.Item(Y.createID(client, clock + i), null, left, null, null, left ? null : (root as unknown as Y.AbstractType<unknown>), key, new Y.ContentAny([value]));
  });
  return encode(client, clock, items, deletes);
}

function encode(client: number, firstClock: number, items: readonly Y.Item[], deletes: readonly DeleteRange[]): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, items.length > 0 ? 1 : 0);
  if (items.length > 0) {
    encoding.writeVarUint(encoder.restEncoder, items.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, firstClock);
    for (const item of items) item.write(encoder, 0);
  }
  writeDeleteSet(encoder, deletes);
  return encoder.toUint8Array();
}

/** Yjs's delete set encoding (v1): per client, descending, its sorted and merged ranges. */
function writeDeleteSet(encoder: Y.UpdateEncoderV1, ranges: readonly DeleteRange[]): void {
  const byClient = new Map<number, DeleteRange[]>();
  for (const range of ranges) {
    const list = byClient.get(range.client);
    if (list) list.push(range);
    else byClient.set(range.client, [range]);
  }
  encoding.writeVarUint(encoder.restEncoder, byClient.size);
  for (const [client, list] of [...byClient].sort((a, b) => b[0] - a[0])) {
    list.sort((a, b) => a.clock - b.clock);
    const merged: DeleteRange[] = [];
    for (const range of list) {
      const last = merged.at(-1);
      if (last && range.clock <= last.clock + last.len) last.len = Math.max(last.len, range.clock + range.len - last.clock);
      else merged.push({ ...range });
    }
    encoder.resetDsCurVal();
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, merged.length);
    for (const range of merged) {
      encoder.writeDsClock(range.clock);
      encoder.writeDsLen(range.len);
    }
  }
}

/** A client update and the server's additions as one log entry (and one broadcast frame). */
export function withServerPart(update: Uint8Array, serverPart: Uint8Array | null): Uint8Array {
  return serverPart ? Y.mergeUpdates([update, serverPart]) : update;
}

/**
 * The map ops that make the given roots of `doc` hold exactly `desired` (entries equal by JSON
 * are left alone, so reconciling an up-to-date document writes nothing). Roots listed in
 * `exact` also lose the keys `desired` does not name.
 */
export function reconcileOps(doc: Y.Doc, desired: Record<string, Record<string, unknown>>, exact: readonly string[] = []): MapOp[] {
  const ops: MapOp[] = [];
  for (const [root, entries] of Object.entries(desired)) {
    const map = doc.getMap(root);
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) continue;
      const current = map.get(key);
      if (current === undefined || JSON.stringify(current) !== JSON.stringify(value)) ops.push({ root, key, value });
    }
    if (exact.includes(root)) for (const key of map.keys()) if (!(key in entries)) ops.push({ root, key });
  }
  return ops;
}
