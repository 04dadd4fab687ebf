// Hostile updates for the mutation fuzz: an honest update (or a forgery written with the SDK's
// own helpers on a copy of the document) bent by one or more mutations of its bytes or of its
// structure: structs dropped, duplicated, moved, given other clients, clocks, origins, parents,
// keys and content types; GC and skip structs; delete sets that are huge, many, or aimed at the
// server's structs. Every mutation names itself, so a failure says what was tried.
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import {
  SegmentRoots,
  UserRoots,
  reactionKey,
  readKey,
  segmentMaps,
  serverClientId,
  userMaps,
  writeDeletion,
  writeEdit,
  writeMessage,
  writeReaction,
  type ConversationId,
  type DeviceId,
  type MessageId,
  type UserId,
} from '@outpost/shared-schema';
import type { Rng } from './random.ts';

type Struct = Y.Item | Y.GC | Y.Skip;

/** An update taken apart: structs in the order they are encoded, and the delete set. */
export interface Parts {
  structs: Struct[];
  deletes: { client: number; clock: number; len: number }[];
}

/** Who sends, in which document, as the server knows it. */
export interface Target {
  doc: Y.Doc;
  kind: 'segment' | 'user';
  userId: UserId;
  deviceId: DeviceId;
  conversationId: ConversationId;
}

export function partsOf(update: Uint8Array): Parts {
  const decoded = Y.decodeUpdate(update) as unknown as { structs: Struct[]; ds: { clients: Map<number, { clock: number; len: number }[]> } };
  const deletes: Parts['deletes'] = [];
  for (const [client, ranges] of decoded.ds.clients) for (const { clock, len } of ranges) deletes.push({ client, clock, len });
  return { structs: decoded.structs, deletes };
}

/**
 * Encodes structs in the order given (a new client group whenever the client changes or the
 * clocks do not follow on; the clock of a struct inside a group is implied by the one before,
 * as in Yjs's format) and the delete set, unsorted and unmerged if so given.
 */
export function encodeParts({ structs, deletes }: Parts): Uint8Array {
  const groups: { client: number; clock: number; structs: Struct[] }[] = [];
  for (const struct of structs) {
    const last = groups.at(-1);
    const next = last ? last.clock + last.structs.reduce((n, s) => n + s.length, 0) : -1;
    if (last && last.client === struct.id.client && next === struct.id.clock) last.structs.push(struct);
    else groups.push({ client: struct.id.client, clock: struct.id.clock, structs: [struct] });
  }
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, groups.length);
  for (const group of groups) {
    encoding.writeVarUint(encoder.restEncoder, group.structs.length);
    encoder.writeClient(group.client);
    encoding.writeVarUint(encoder.restEncoder, group.clock);
    for (const struct of group.structs) struct.write(encoder, 0);
  }
  const byClient = new Map<number, { clock: number; len: number }[]>();
  for (const { client, clock, len } of deletes) {
    const ranges = byClient.get(client);
    if (ranges) ranges.push({ clock, len });
    else byClient.set(client, [{ clock, len }]);
  }
  encoding.writeVarUint(encoder.restEncoder, byClient.size);
  for (const [client, ranges] of byClient) {
    encoder.resetDsCurVal();
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, ranges.length);
    for (const range of ranges) {
      encoder.writeDsClock(range.clock);
      encoder.writeDsLen(range.len);
    }
  }
  return encoder.toUint8Array();
}

// ── forgeries written with the SDK's helpers on a copy of the document ──

const BIG = [2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER];

function copyOf(rng: Rng, doc: Y.Doc, clientId?: number): Y.Doc {
  const copy = new Y.Doc({ gc: rng.chance(0.5) });
  copy.clientID = clientId ?? 1 + rng.int(2 ** 32 - 1);
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return copy;
}

function liveKeys(doc: Y.Doc, root: string): string[] {
  const type = doc.share.get(root) as unknown as { _map: Map<string, Y.Item> } | undefined;
  return type ? [...type._map].filter(([, item]) => !item.deleted).map(([key]) => key) : [];
}

function clientsOf(doc: Y.Doc): number[] {
  return [...doc.store.clients.keys()];
}

/** Things no honest client writes, each done the way a modified client would. */
export function forgery(rng: Rng, target: Target): { name: string; update: Uint8Array } {
  const { doc, userId } = target;
  const others = [...new Set(liveKeys(doc, SegmentRoots.messages).map((id) => segmentMaps(doc).messages.get(id)?.author))].filter(
    (author): author is UserId => author !== undefined && author !== userId,
  );
  const someone = others.length > 0 ? rng.pick(others) : (rng.uuid() as UserId);
  const messages = liveKeys(doc, SegmentRoots.messages) as MessageId[];
  const anyMessage = () => (messages.length > 0 ? rng.pick(messages) : (rng.uuid() as MessageId));
  const othersMessage = () => {
    const theirs = messages.filter((id) => segmentMaps(doc).messages.get(id)?.author !== userId);
    return theirs.length > 0 ? rng.pick(theirs) : anyMessage();
  };
  const clientId = rng.chance(0.15) ? rng.pick([serverClientId(0), serverClientId(rng.int(3)), ...clientsOf(doc)]) : undefined;
  const copy = copyOf(rng, doc, clientId);
  const before = Y.encodeStateVector(doc);
  const forgeries: [string, () => void][] =
    target.kind === 'segment'
      ? [
          ['a message under someone else’s name', () => writeMessage(copy, rng.uuid() as MessageId, { author: someone, createdAt: 1, body: 'forged' })],
          ['a message rewritten', () => writeMessage(copy, anyMessage(), { author: userId, createdAt: 2, body: 'rewritten' })],
          ['someone else’s message edited', () => writeEdit(copy, othersMessage(), { body: 'put in their mouth', editedAt: 3 })],
          ['someone else’s message deleted (by a member)', () => writeDeletion(copy, othersMessage(), { by: userId, at: 4 })],
          ['a deletion signed by someone else', () => writeDeletion(copy, anyMessage(), { by: someone, at: 5 })],
          ['a deletion undone', () => segmentMaps(copy).deletions.delete(rng.pick(liveKeys(copy, SegmentRoots.deletions).concat([anyMessage()])))],
          ['a message entry removed', () => segmentMaps(copy).messages.delete(anyMessage())],
          ['a reaction in someone else’s name', () => writeReaction(copy, anyMessage(), '👍', someone, 6)],
          ['someone else’s reaction removed', () => segmentMaps(copy).reactions.delete(rng.pick(liveKeys(copy, SegmentRoots.reactions).concat([reactionKey(anyMessage(), '👍', someone)])))],
          ['a sequence number', () => segmentMaps(copy).seq.set(anyMessage(), { seq: 1, at: 1 })],
          ['an unknown root', () => copy.getMap(rng.pick(['other', 'messages2', '__proto__', ''])).set(anyMessage(), 1)],
          ['a nested map', () => copy.getMap(rng.pick(Object.values(SegmentRoots))).set(anyMessage(), new Y.Map())],
          ['an array root', () => copy.getArray(rng.pick(Object.values(SegmentRoots))).push([{ author: userId }])],
          ['a text root', () => copy.getText(SegmentRoots.edits).insert(0, 'x')],
          ['a malformed message', () => segmentMaps(copy).messages.set(rng.uuid(), rng.pick([{ author: userId, createdAt: -1, body: 'x' }, { author: userId, createdAt: 1, body: '' }, { author: userId, createdAt: 1, body: 'x', extra: 1 }, 'text', null, [1]]) as never)],
          ['a malformed edit', () => segmentMaps(copy).edits.set(anyMessage(), rng.pick([{ body: 'x' }, 'x', { body: 'x'.repeat(100_001), editedAt: 1 }]) as never)],
          ['a message id that is not a UUID', () => segmentMaps(copy).messages.set(rng.pick(['x', '../1', 'ABC']), { author: userId, createdAt: 1, body: 'x' })],
          ['a reaction key without the sender', () => segmentMaps(copy).reactions.set(rng.pick([`${anyMessage()}/👍`, `${anyMessage()}//${userId}`, `${anyMessage()}/👍 /${userId}`, 'x']), 1)],
          ['an edit of a message and its deletion in one go, by someone else', () => copy.transact(() => {
            const id = othersMessage();
            writeEdit(copy, id, { body: 'x', editedAt: 1 });
            writeDeletion(copy, id, { by: userId, at: 2 });
          })],
          ['a huge clock', () => {
            copy.clientID = 1 + rng.int(2 ** 31);
            copy.store.clients.set(copy.clientID, [new Y.GC(Y.createID(copy.clientID, 0), rng.pick(BIG))]);
            writeMessage(copy, rng.uuid() as MessageId, { author: userId, createdAt: 1, body: 'after a gap' });
          }],
        ]
      : [
          ['another device’s read position', () => userMaps(copy).reads.set(readKey(target.conversationId, rng.uuid() as DeviceId), 3)],
          ['a read position removed', () => userMaps(copy).reads.delete(rng.pick(liveKeys(copy, UserRoots.reads).concat([readKey(target.conversationId, target.deviceId)])))],
          ['a malformed read position', () => userMaps(copy).reads.set(readKey(target.conversationId, target.deviceId), rng.pick([-1, 1.5, 'x', 2 ** 60]) as number)],
          ['a read key that is not <conversation>/<device>', () => userMaps(copy).reads.set(rng.pick(['x', `${target.conversationId}/${target.deviceId}/x`, target.conversationId]), 1)],
          ['a draft under a key that is not a conversation id', () => userMaps(copy).drafts.set(rng.pick(['x', '', '../']), 'x')],
          ['a malformed draft', () => userMaps(copy).drafts.set(target.conversationId, rng.pick([1, null, 'x'.repeat(100_001)]) as string)],
          ['an unknown root', () => copy.getMap('settings').set('x', 1)],
          ['a nested type', () => userMaps(copy).drafts.set(target.conversationId, new Y.Text() as never)],
        ];
  const [name, forge] = rng.pick(forgeries);
  forge();
  return { name, update: Y.encodeStateAsUpdate(copy, before) };
}

// ── mutations of an update's structure and bytes ──

function anyId(rng: Rng, doc: Y.Doc, parts: Parts): Y.ID {
  const clients = [...clientsOf(doc), ...parts.structs.map((s) => s.id.client)];
  const client = clients.length > 0 && rng.chance(0.8) ? rng.pick(clients) : rng.pick([1 + rng.int(2 ** 32 - 1), serverClientId(0), 0]);
  const state = Y.getState(doc.store, client);
  const clock = rng.pick([0, Math.max(0, state - 1), state, state + 1 + rng.int(5), rng.pick(BIG), rng.int(Math.max(1, state))]);
  return Y.createID(client, clock);
}

function randomContent(rng: Rng, userId: UserId): Y.Item['content'] {
  switch (rng.int(10)) {
    case 0:
      return new Y.ContentString(rng.pick(['x', 'forged body', '\u{1F600}']));
    case 1:
      return new Y.ContentJSON([rng.pick([{ author: userId, createdAt: 1, body: 'x' }, 'x', 1, null])]);
    case 2:
      return new Y.ContentBinary(new Uint8Array(rng.int(40)));
    case 3:
      return new Y.ContentType(rng.pick([() => new Y.Map(), () => new Y.Array(), () => new Y.Text(), () => new Y.XmlFragment()])());
    case 4:
      return new Y.ContentDoc(new Y.Doc());
    case 5:
      return new Y.ContentEmbed({ author: userId });
    case 6:
      return new Y.ContentFormat('bold', true);
    case 7:
      return new Y.ContentDeleted(rng.pick([1, 2, 1_000, 2 ** 20]));
    case 8:
      return new Y.ContentAny([{ author: userId, createdAt: 1, body: 'a' }, { author: userId, createdAt: 1, body: 'b' }]);
    default:
      return new Y.ContentAny([rng.pick([{ author: userId, createdAt: 1, body: 'x' }, { body: 'x', editedAt: 1 }, { by: userId, at: 1 }, 7, 'x', null, -1])]);
  }
}

/** A decoded item names its root by a string where an integrated one holds the type. */
function rootNamed(name: string): Y.Item['parent'] {
  return name as unknown as Y.Item['parent'];
}

function item(struct: Struct): Y.Item | null {
  return struct instanceof Y.Item ? struct : null;
}

/** One structural or byte mutation; returns its name and the new bytes. */
export function mutate(rng: Rng, target: Target, update: Uint8Array): { name: string; update: Uint8Array } {
  const { doc, userId } = target;
  const byteMutations: [string, () => Uint8Array][] = [
    ['bytes flipped', () => {
      const bytes = update.slice();
      for (let i = 1 + rng.int(4); i > 0 && bytes.length > 0; i--) bytes[rng.int(bytes.length)] = rng.int(256);
      return bytes;
    }],
    ['truncated', () => update.slice(0, rng.int(update.length))],
    ['garbage appended', () => new Uint8Array([...update, ...Array.from({ length: 1 + rng.int(20) }, () => rng.int(256))])],
    ['random bytes', () => new Uint8Array(Array.from({ length: rng.int(300) }, () => rng.int(256)))],
    ['a varuint that never ends', () => new Uint8Array([...update.slice(0, rng.int(update.length)), ...new Array(12).fill(0xff)])],
  ];
  let parts: Parts;
  try {
    parts = partsOf(update);
  } catch {
    const [name, change] = rng.pick(byteMutations);
    return { name, update: change() };
  }
  const { structs, deletes } = parts;
  const items = structs.map(item).filter((i): i is Y.Item => i !== null);
  const pickItem = () => (items.length > 0 ? rng.pick(items) : null);
  const structMutations: [string, () => void][] = [
    ['a struct dropped (later clocks shift)', () => structs.splice(rng.int(Math.max(1, structs.length)), 1)],
    ['a struct dropped, leaving a gap', () => {
      const at = rng.int(Math.max(1, structs.length));
      const dropped = structs[at];
      if (dropped) structs.splice(at, 1, new Y.Skip(dropped.id, dropped.length));
    }],
    ['a struct duplicated', () => {
      const at = rng.int(Math.max(1, structs.length));
      const struct = structs[at];
      if (struct) structs.splice(rng.int(structs.length + 1), 0, struct);
    }],
    ['structs reordered', () => rng.shuffle(structs)],
    ['structs reversed', () => structs.reverse()],
    ['a GC struct', () => structs.splice(rng.int(structs.length + 1), 0, new Y.GC(anyId(rng, doc, parts), 1 + rng.int(3)))],
    ['a skip struct', () => structs.splice(rng.int(structs.length + 1), 0, new Y.Skip(anyId(rng, doc, parts), 1 + rng.int(3)))],
    ['a client id changed (another user’s, the server’s, a new one)', () => {
      const struct = rng.pick(structs.length > 0 ? structs : [new Y.GC(Y.createID(1, 0), 1)]);
      const client = rng.pick([...clientsOf(doc), serverClientId(0), serverClientId(1), 2 ** 53 - 1, 0, 1 + rng.int(2 ** 32 - 1)]);
      struct.id = Y.createID(client, rng.chance(0.5) ? Y.getState(doc.store, client) : struct.id.clock);
    }],
    ['a huge clock', () => {
      const struct = structs[rng.int(Math.max(1, structs.length))];
      if (struct) struct.id = Y.createID(struct.id.client, rng.pick(BIG));
    }],
    ['an origin elsewhere (unknown, later, itself, another key)', () => {
      const target = pickItem();
      if (!target) return;
      target.origin = rng.pick([anyId(rng, doc, parts), target.id, Y.createID(target.id.client, target.id.clock + 1 + rng.int(3)), null]);
      if (target.origin === null && target.rightOrigin === null && target.parent === null) target.parent = rootNamed(rng.pick(Object.values(SegmentRoots)));
    }],
    ['a right origin elsewhere', () => {
      const target = pickItem();
      if (!target) return;
      target.rightOrigin = rng.pick([anyId(rng, doc, parts), target.id, null]);
      if (target.origin === null && target.rightOrigin === null && target.parent === null) target.parent = rootNamed(rng.pick(Object.values(SegmentRoots)));
    }],
    ['a parent or key swapped', () => {
      const target = pickItem();
      if (!target) return;
      target.origin = null;
      target.rightOrigin = null;
      target.parent = rng.chance(0.8) ? rootNamed(rng.pick([...Object.values(SegmentRoots), ...Object.values(UserRoots), 'other', ''])) : anyId(rng, doc, parts);
      target.parentSub = rng.pick([null, rng.uuid(), `${rng.uuid()}/👍/${userId}`, `${target.parentSub ?? ''}/x`, target.parentSub]);
    }],
    ['a content type swapped', () => {
      const target = pickItem();
      if (!target) return;
      target.content = randomContent(rng, userId);
      target.length = target.content.getLength();
    }],
    ['a huge delete range', () => deletes.push({ client: rng.pick([...clientsOf(doc), serverClientId(0)]), clock: rng.int(4), len: rng.pick([1_000, 2 ** 20, 2 ** 31, Number.MAX_SAFE_INTEGER]) })],
    ['many delete ranges', () => {
      const client = rng.pick([...clientsOf(doc), serverClientId(0), 7]);
      for (let i = 0, n = rng.pick([100, 5_000, 25_000]); i < n; i++) deletes.push({ client, clock: i * 2, len: 1 });
    }],
    ['a delete of the server’s structs', () => deletes.push({ client: serverClientId(0), clock: 0, len: 1 + rng.int(Math.max(1, Y.getState(doc.store, serverClientId(0)))) })],
    ['a delete range reversed or empty', () => deletes.push({ client: rng.pick([...clientsOf(doc), 5]), clock: rng.int(10), len: rng.pick([0, -1 >>> 0]) })],
    ['the delete set dropped', () => deletes.splice(0)],
  ];
  const all: [string, () => Uint8Array | void][] = [...structMutations, ...byteMutations];
  const [name, change] = rng.pick(all);
  const bytes = change();
  return { name, update: bytes instanceof Uint8Array ? bytes : encodeParts(parts) };
}
