// What an update does (analyze.ts) and whether its sender may do it (validate.ts), on updates
// built with plain Yjs: the honest shapes a device produces offline, and the hostile ones.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import {
  markRead,
  reactionKey,
  segmentMaps,
  serverClientId,
  writeDeletion,
  writeEdit,
  writeMessage,
  writeReaction,
  type ConversationId,
  type DeviceId,
  type MessageId,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import { analyzeUpdate, UpdateCaps } from './analyze.ts';
import { validateSegment, validateUser } from './validate.ts';

const ada = crypto.randomUUID() as UserId;
const bob = crypto.randomUUID() as UserId;
const device = crypto.randomUUID() as DeviceId;

/** A client's copy of the server's document. */
function clientOf(server: Y.Doc): Y.Doc {
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
  return client;
}

/** Everything `client` has that `server` lacks (what its sync step 2 would carry). */
function diff(client: Y.Doc, server: Y.Doc): Uint8Array {
  return Y.encodeStateAsUpdate(client, Y.encodeStateVector(server));
}

/** The update that `change` makes to a fresh copy of `server`. */
function updateFrom(server: Y.Doc, change: (doc: Y.Doc) => void): Uint8Array {
  const client = clientOf(server);
  change(client);
  return diff(client, server);
}

function judge(server: Y.Doc, update: Uint8Array, userId: UserId, role: Role = 'member') {
  const analysis = analyzeUpdate(server, update);
  if (!analysis.integrable) return { held: true as const };
  return { held: false as const, empty: analysis.empty, changes: validateSegment(server, analysis, { userId, deviceId: device, role }) };
}

/** Judges and applies, as the write path would. */
function accept(server: Y.Doc, update: Uint8Array, userId: UserId, role: Role = 'member') {
  const verdict = judge(server, update, userId, role);
  if (verdict.held) throw new Error('expected the update to integrate');
  Y.applyUpdate(server, update);
  expect(server.store.pendingStructs).toBeNull();
  expect(server.store.pendingDs).toBeNull();
  return verdict.changes;
}

function serverWithMessage(author: UserId): { server: Y.Doc; id: MessageId } {
  const server = new Y.Doc();
  const id = crypto.randomUUID() as MessageId;
  accept(server, updateFrom(server, (d) => writeMessage(d, id, { author, createdAt: 1, body: 'hi' })), author);
  return { server, id };
}

describe('honest work is accepted', () => {
  it('a new message by its author', () => {
    const server = new Y.Doc();
    const id = crypto.randomUUID() as MessageId;
    const changes = accept(server, updateFrom(server, (d) => writeMessage(d, id, { author: ada, createdAt: 1, body: 'hi' })), ada);
    expect(changes.messages.map((m) => m.id)).toEqual([id]);
  });

  it('three edits of one message made offline (an origin inside a merged run of overwritten edits)', () => {
    const { server, id } = serverWithMessage(ada);
    const device = clientOf(server);
    for (const body of ['one', 'two', 'three']) writeEdit(device, id, { body, editedAt: body.length });
    const update = diff(device, server);
    // Yjs merged the two overwritten edits into one deleted struct the live one refers into.
    expect(Y.decodeUpdate(update).structs.some((s) => s.length >= 2)).toBe(true);
    accept(server, update, ada);
    expect(segmentMaps(server).edits.get(id)?.body).toBe('three');
  });

  it('a reaction toggled three times, one key set three times in one transaction, a conversation read three times', () => {
    const { server, id } = serverWithMessage(ada);
    const phone = clientOf(server);
    writeReaction(phone, id, '👍', bob, 1);
    segmentMaps(phone).reactions.delete(reactionKey(id, '👍', bob));
    writeReaction(phone, id, '👍', bob, 3);
    phone.transact(() => {
      for (const at of [4, 5, 6]) writeReaction(phone, id, '🎉', bob, at);
    });
    accept(server, diff(phone, server), bob);

    const userDoc = new Y.Doc();
    const reader = clientOf(userDoc);
    const conversation = crypto.randomUUID() as ConversationId;
    for (const seq of [1, 2, 3]) markRead(reader, conversation, device, seq);
    const analysis = analyzeUpdate(userDoc, diff(reader, userDoc));
    expect(analysis.integrable).toBe(true);
    expect(validateUser(analysis, { userId: ada, deviceId: device }).reads).toEqual([{ conversationId: conversation, seq: 3 }]);
  });

  it('an owner deletes a member’s edited message (and with it the edit and the reactions)', () => {
    const { server, id } = serverWithMessage(bob);
    accept(server, updateFrom(server, (d) => writeEdit(d, id, { body: 'edited', editedAt: 2 })), bob);
    accept(server, updateFrom(server, (d) => writeReaction(d, id, '👍', bob, 3)), bob);
    accept(server, updateFrom(server, (d) => writeDeletion(d, id, { by: ada, at: 4 })), ada, 'owner');
    expect(segmentMaps(server).edits.has(id)).toBe(false);
    expect(segmentMaps(server).reactions.size).toBe(0);
  });

  it('a change that builds on one the server has not seen yet waits, then is judged when it can integrate', () => {
    const { server, id } = serverWithMessage(ada);
    const phone = clientOf(server);
    writeEdit(phone, id, { body: 'offline', editedAt: 2 });
    const first = diff(phone, server);
    const between = Y.encodeStateVector(phone);
    writeEdit(phone, id, { body: 'after reconnecting', editedAt: 3 });
    const second = Y.encodeStateAsUpdate(phone, between);
    expect(judge(server, second, ada)).toEqual({ held: true });
    accept(server, first, ada);
    accept(server, second, ada);
    expect(segmentMaps(server).edits.get(id)?.body).toBe('after reconnecting');
  });

  it('an edit, a deletion and a reaction that reach the server before the message (another tab wrote it) wait for it', () => {
    // Found by honestSessions.test.ts (seeds 1, 35 and 124): a new key has no origin, so nothing
    // in the update's structure says it depends on the message another client id wrote.
    const server = new Y.Doc();
    const tab = clientOf(server);
    const otherTab = clientOf(server);
    const id = crypto.randomUUID() as MessageId;
    writeMessage(tab, id, { author: ada, createdAt: 1, body: 'hi' });
    const message = diff(tab, server);
    Y.applyUpdate(otherTab, message); // relayed between tabs, not through the server
    const before = Y.encodeStateVector(otherTab);
    writeEdit(otherTab, id, { body: 'edited', editedAt: 2 });
    writeReaction(otherTab, id, '👍', ada, 3);
    writeDeletion(otherTab, id, { by: ada, at: 4 });
    const raced = Y.encodeStateAsUpdate(otherTab, before);
    expect(judge(server, raced, ada)).toMatchObject({ held: false, changes: { waitingFor: new Set([id]) } });
    accept(server, message, ada);
    expect(accept(server, raced, ada).waitingFor.size).toBe(0);
    expect(segmentMaps(server).deletions.has(id)).toBe(true);
  });

  it('a deletion made without seeing the latest edit or a reaction takes them along', () => {
    // Found by honestSessions.test.ts (seeds 5 and 52): the owner deletes from a copy that has
    // not seen the author's edit nor a member's reaction; they must not live on beside the deletion.
    const { server, id } = serverWithMessage(bob);
    const owner = clientOf(server);
    accept(server, updateFrom(server, (d) => writeEdit(d, id, { body: 'the text to go', editedAt: 2 })), bob);
    accept(server, updateFrom(server, (d) => writeReaction(d, id, '👍', bob, 3)), bob);
    const other = crypto.randomUUID() as MessageId;
    accept(server, updateFrom(server, (d) => writeMessage(d, other, { author: bob, createdAt: 4, body: 'stays' })), bob);
    accept(server, updateFrom(server, (d) => writeReaction(d, other, '👍', bob, 5)), bob);
    const liveEntry = (root: string, key: string) => (server.getMap(root) as unknown as { _map: Map<string, Y.Item> })._map.get(key)?.id;
    const expected = [liveEntry('edits', id), liveEntry('reactions', reactionKey(id, '👍', bob))];
    writeDeletion(owner, id, { by: ada, at: 6 });
    const changes = accept(server, diff(owner, server), ada, 'owner');
    expect(changes.neutralize).toEqual(expected);
  });

  it('a deletion that lost to another device’s deletion of the same message (it arrives without its value)', () => {
    // Found by honestSessions.test.ts (seeds 16 and 38): Yjs deletes the losing entry on the device and
    // garbage-collects its value before the device's sync step 2 carries it.
    const { server, id } = serverWithMessage(bob);
    const phone = clientOf(server);
    const laptop = clientOf(server);
    phone.clientID = 1; // the lower client id loses
    laptop.clientID = 2;
    writeDeletion(phone, id, { by: bob, at: 2 });
    writeDeletion(laptop, id, { by: bob, at: 3 });
    accept(server, diff(laptop, server), bob);
    Y.applyUpdate(phone, diff(server, phone)); // the phone hears of the laptop's deletion first
    const late = diff(phone, server);
    expect(Y.decodeUpdate(late).structs.some((s) => s instanceof Y.Item && s.content instanceof Y.ContentDeleted)).toBe(true);
    accept(server, late, bob);
    expect(segmentMaps(server).deletions.get(id)?.at).toBe(3);
    // A value-less entry written on top of the deletion would take the key: refused.
    const eraser = clientOf(server);
    eraser.transact(() => {
      writeDeletion(eraser, id, { by: bob, at: 4 });
      segmentMaps(eraser).deletions.delete(id);
    });
    expect(() => judge(server, diff(eraser, server), bob)).toThrow(/cannot be undone/);
  });

  it('a read position written in two tabs at once, then again in one of them', () => {
    // The second tab's first value lands before the first tab's (lower client id) and is
    // deleted by Yjs there; its own overwrite deletes it again. Neither is a removal: only
    // deleting the value the key ends up holding is (an earlier fix got this wrong; the
    // honest-session generator caught it).
    const userDoc = new Y.Doc();
    const conversation = crypto.randomUUID() as ConversationId;
    const first = clientOf(userDoc);
    const second = clientOf(userDoc);
    first.clientID = 3_000;
    second.clientID = 2_000;
    markRead(first, conversation, device, 4);
    Y.applyUpdate(userDoc, diff(first, userDoc));
    // The provider merges the two incremental updates into one frame (the first keeps its value).
    const sent: Uint8Array[] = [];
    second.on('update', (update: Uint8Array) => sent.push(update));
    markRead(second, conversation, device, 2);
    markRead(second, conversation, device, 3);
    const analysis = analyzeUpdate(userDoc, Y.mergeUpdates(sent));
    expect(analysis.deletes).toHaveLength(1);
    expect(validateUser(analysis, { userId: ada, deviceId: device }).reads).toEqual([
      { conversationId: conversation, seq: 2 },
      { conversationId: conversation, seq: 3 },
    ]);
  });

  it('an update the document already has changes nothing', () => {
    const { server } = serverWithMessage(ada);
    expect(judge(server, Y.encodeStateAsUpdate(server), ada)).toMatchObject({ held: false, empty: true });
  });

  it('tells an update that resends structs the document has (they are left out of the log) from one that is all new', () => {
    const { server } = serverWithMessage(ada);
    const first = updateFrom(server, (doc) => writeMessage(doc, crypto.randomUUID() as MessageId, { author: ada, createdAt: 2, body: 'first' }));
    expect(analyzeUpdate(server, first).repeats).toBe(false);
    accept(server, first, ada);
    // The device's outbox resends the first message with the second (the acknowledgement was lost).
    const client = clientOf(server);
    writeMessage(client, crypto.randomUUID() as MessageId, { author: ada, createdAt: 3, body: 'second' });
    const both = Y.encodeStateAsUpdate(client, Y.encodeStateVector(new Y.Doc()));
    const analysis = analyzeUpdate(server, both);
    expect(analysis).toMatchObject({ integrable: true, empty: false, repeats: true });
    expect(analyzeUpdate(server, diff(client, server)).repeats).toBe(false);
  });

  it('an edit or a reaction that arrives after the message was deleted elsewhere is accepted and neutralized', () => {
    const { server, id } = serverWithMessage(ada);
    const phone = clientOf(server);
    writeEdit(phone, id, { body: 'typed on the phone', editedAt: 5 });
    writeReaction(phone, id, '👍', ada, 6);
    accept(server, updateFrom(server, (d) => writeDeletion(d, id, { by: ada, at: 4 })), ada);
    const changes = accept(server, diff(phone, server), ada);
    expect(changes.neutralize).toHaveLength(2);
  });

  it('a chain of 20,000 items validates without recursion', () => {
    const server = new Y.Doc();
    const phone = clientOf(server);
    const id = crypto.randomUUID() as MessageId;
    writeMessage(phone, id, { author: ada, createdAt: 1, body: 'hi' });
    // Two keys set in turn: 19,998 structs that cannot merge, each origin the one before its last.
    for (let i = 0; i < 20_000 - 2; i++) segmentMaps(phone).reactions.set(reactionKey(id, i % 2 ? '👍' : '🎉', ada), i);
    const update = diff(phone, server);
    expect(Y.decodeUpdate(update).structs.length).toBeGreaterThan(19_000);
    accept(server, update, ada);
  });
});

describe('messages with files', () => {
  const file = (id: string = crypto.randomUUID()) => ({ id, name: 'pump.jpg', type: 'image/jpeg', size: 1000, width: 800, height: 1200, placeholder: 'data:image/webp;base64,UklGRg==' });
  const write = (server: Y.Doc, entry: Record<string, unknown>) =>
    updateFrom(server, (d) => segmentMaps(d).messages.set(crypto.randomUUID(), { author: ada, createdAt: 1, body: '', ...entry } as never));

  it('accepts a message of files with no caption, and passes the files on to the commit', () => {
    const server = new Y.Doc();
    const changes = accept(server, write(server, { attachments: [file(), file()] }), ada);
    expect(changes.messages[0]?.entry.attachments).toHaveLength(2);
  });

  it('refuses malformed files: too many, twice the same, no caption and no file, a type or placeholder that is not what it must be', () => {
    const server = new Y.Doc();
    const id = crypto.randomUUID();
    for (const entry of [
      { attachments: Array.from({ length: 11 }, () => file()) },
      { attachments: [file(id), file(id)] },
      { attachments: [] },
      { body: '   ' },
      { attachments: [{ ...file(), type: 'text/html; charset=utf-8' }] },
      { attachments: [{ ...file(), placeholder: 'https://tracker.example/pixel.png' }] },
      { attachments: [{ ...file(), id: '../../etc/passwd' }] },
      { attachments: [{ ...file(), size: -1 }] },
      { attachments: [{ ...file(), extra: 'field' }] },
      { attachments: [{ ...file(), name: '' }] },
    ]) {
      expect(() => judge(server, write(server, entry), ada), JSON.stringify(entry).slice(0, 80)).toThrow(/message is malformed/);
    }
  });
});

describe('forgeries are refused', () => {
  it('a forged author, a rewritten message, a second write of one id in one update', () => {
    const server = new Y.Doc();
    expect(() => judge(server, updateFrom(server, (d) => writeMessage(d, crypto.randomUUID() as MessageId, { author: bob, createdAt: 1, body: 'hi' })), ada)).toThrow(/author must be the sender/);
    const { server: withOne, id } = serverWithMessage(ada);
    expect(() => judge(withOne, updateFrom(withOne, (d) => writeMessage(d, id, { author: ada, createdAt: 2, body: 'rewritten' })), ada)).toThrow(/written once/);
  });

  it('a gapped update (the pending rewrite) waits instead of landing, and is refused once the gap fills', () => {
    const server = new Y.Doc();
    const attacker = clientOf(server);
    const id = crypto.randomUUID() as MessageId;
    const start = Y.encodeStateVector(attacker);
    segmentMaps(attacker).reactions.set('padding', 1); // clock 0: withheld
    const gapStart = Y.encodeStateVector(attacker);
    writeMessage(attacker, id, { author: ada, createdAt: 1, body: 'the text everyone will see' }); // clock 1
    const gapped = Y.encodeStateAsUpdate(attacker, gapStart);
    expect(judge(server, gapped, ada)).toEqual({ held: true });
    // The harmless body for the same id, from another client of the attacker, is accepted.
    accept(server, updateFrom(server, (d) => writeMessage(d, id, { author: ada, createdAt: 2, body: 'harmless' })), ada);
    // Filling the gap makes the withheld struct integrable: it is judged, and refused.
    const filled = Y.encodeStateAsUpdate(attacker, start);
    expect(() => judge(server, filled, ada)).toThrow(/written once|reaction key|unknown/);
  });

  it('edits, deletions and reactions only in the segment that holds the message, by the right people', () => {
    const { server, id } = serverWithMessage(ada);
    // A segment that does not hold the message: the write path decides whether it is on its way
    // (wait) or lives in another segment (refuse); nothing is written meanwhile.
    const elsewhere = new Y.Doc();
    for (const change of [(d: Y.Doc) => writeEdit(d, id, { body: 'x', editedAt: 2 }), (d: Y.Doc) => writeDeletion(d, id, { by: ada, at: 2 }), (d: Y.Doc) => writeReaction(d, id, '👍', ada, 2)]) {
      expect(judge(elsewhere, updateFrom(elsewhere, change), ada)).toMatchObject({ held: false, changes: { waitingFor: new Set([id]) } });
    }
    expect(() => judge(elsewhere, updateFrom(elsewhere, (d) => writeDeletion(d, id, { by: bob, at: 2 })), ada)).toThrow(/signed by the sender/);
    expect(() => judge(server, updateFrom(server, (d) => writeEdit(d, id, { body: 'x', editedAt: 2 })), bob)).toThrow(/only the author edits/);
    expect(() => judge(server, updateFrom(server, (d) => writeDeletion(d, id, { by: bob, at: 3 })), bob)).toThrow(/only the author or a group admin/);
    expect(judge(server, updateFrom(server, (d) => writeDeletion(d, id, { by: bob, at: 3 })), bob, 'admin')).toMatchObject({ held: false });
    expect(() => judge(server, updateFrom(server, (d) => writeReaction(d, id, '👍', bob, 1)), ada)).toThrow(/own user id/);
  });

  it('an author undoing a moderator’s deletion with a value that lands before it, plus a delete of the deletion', () => {
    // Found by reading removals(): deleting the key's value was excused as an overwrite whenever
    // the update wrote any live value for the key, even one that Yjs puts before the current
    // value (and deletes at once), which left the key empty.
    const server = new Y.Doc();
    const author = new Y.Doc();
    author.clientID = 5;
    const id = crypto.randomUUID() as MessageId;
    writeMessage(author, id, { author: bob, createdAt: 1, body: 'moderated' });
    const message = Y.encodeStateAsUpdate(author);
    accept(server, message, bob);
    const moderator = clientOf(server);
    moderator.clientID = 1_000;
    writeDeletion(moderator, id, { by: ada, at: 2 });
    accept(server, diff(moderator, server), ada, 'owner');
    // The author's own "deletion", written without seeing the owner's (lower client id: it lands first)…
    const stale = new Y.Doc();
    stale.clientID = 7;
    Y.applyUpdate(stale, message);
    writeDeletion(stale, id, { by: bob, at: 3 });
    // …and a delete of the owner's deletion entry.
    const eraser = clientOf(server);
    const before = Y.encodeStateVector(eraser);
    segmentMaps(eraser).deletions.delete(id);
    const forged = Y.mergeUpdates([Y.encodeStateAsUpdate(stale, Y.encodeStateVector(author)), Y.encodeStateAsUpdate(eraser, before)]);
    expect(() => judge(server, forged, bob)).toThrow(/cannot be undone/);
  });

  it('removing someone else’s reaction, a message entry or a deletion', () => {
    const { server, id } = serverWithMessage(ada);
    accept(server, updateFrom(server, (d) => writeReaction(d, id, '👍', bob, 1)), bob);
    const removal = updateFrom(server, (d) => segmentMaps(d).reactions.delete(reactionKey(id, '👍', bob)));
    expect(() => judge(server, removal, ada)).toThrow(/your own reactions/);
    expect(() => judge(server, updateFrom(server, (d) => segmentMaps(d).messages.delete(id)), ada)).toThrow(/cannot be removed/);
    accept(server, updateFrom(server, (d) => writeDeletion(d, id, { by: ada, at: 2 })), ada);
    expect(() => judge(server, updateFrom(server, (d) => segmentMaps(d).deletions.delete(id)), ada)).toThrow(/cannot be undone/);
  });

  it('unknown roots, nested types, the server’s seq root and the server’s client id', () => {
    const { server, id } = serverWithMessage(ada);
    expect(() => judge(server, updateFrom(server, (d) => d.getMap('other').set(id, 1)), ada)).toThrow(/unknown root/);
    expect(() => judge(server, updateFrom(server, (d) => d.getMap('edits').set(id, new Y.Map())), ada)).toThrow(/plain values|nested/);
    expect(() => judge(server, updateFrom(server, (d) => d.getArray('messages').push(['x'])), ada)).toThrow(/only map entries/);
    expect(() => judge(server, updateFrom(server, (d) => segmentMaps(d).seq.set(id, { seq: 1, at: 1 })), ada)).toThrow(/server only/);
    const impostor = updateFrom(server, (d) => {
      d.clientID = serverClientId(0);
      writeEdit(d, id, { body: 'x', editedAt: 1 });
    });
    expect(() => judge(server, impostor, ada)).toThrow(/server only/);
  });

  it('garbage-collected structs under made-up client ids (state-vector bloat) and too many new client ids', () => {
    const server = new Y.Doc();
    expect(() => analyzeUpdate(server, gcUpdate([9, 8, 7]))).toThrow(/garbage-collected/);
    const many = new Y.Doc();
    const updates: Uint8Array[] = [];
    for (let i = 0; i <= UpdateCaps.newClients; i++) {
      const d = new Y.Doc();
      d.getMap('drafts').set(crypto.randomUUID(), 'x');
      updates.push(Y.encodeStateAsUpdate(d));
    }
    expect(() => analyzeUpdate(many, Y.mergeUpdates(updates))).toThrow(/new Yjs client ids/);
  });

  it('malformed bytes, and an item whose origin is a later item of its own client', () => {
    const server = new Y.Doc();
    expect(() => analyzeUpdate(server, new Uint8Array([1, 2, 3, 255, 255]))).toThrow(/malformed/);
    const d = new Y.Doc();
    d.getMap('drafts').set('a', 'x');
    d.getMap('drafts').set('a', 'y');
    const [first, second] = Y.decodeUpdate(Y.encodeStateAsUpdate(d)).structs as Y.Item[];
    expect(first && second).toBeTruthy();
    // Rewrite the second item's origin to point at itself, a later clock of its own client.
    (second as Y.Item).origin = Y.createID((second as Y.Item).id.client, (second as Y.Item).id.clock);
    const encoder = new Y.UpdateEncoderV1();
    encoding.writeVarUint(encoder.restEncoder, 1);
    encoding.writeVarUint(encoder.restEncoder, 2);
    encoder.writeClient(d.clientID);
    encoding.writeVarUint(encoder.restEncoder, 0);
    (first as Y.Item).write(encoder, 0);
    (second as Y.Item).write(encoder, 0);
    encoding.writeVarUint(encoder.restEncoder, 0);
    expect(() => analyzeUpdate(server, encoder.toUint8Array())).toThrow(/later item of its own client/);
  });

  it('a client named in two groups of structs (Yjs applies only the last group)', () => {
    // Found by hostileUpdates.test.ts (seeds 449 and 968): the structs judged in the first group
    // are never applied, the second waits pending, a message is numbered that no one will see.
    const [first, second] = twoReads();
    const split = updateOf([[first], [second]]);
    const yjs = new Y.Doc();
    Y.applyUpdate(yjs, split);
    expect(yjs.store.pendingStructs).not.toBeNull();
    expect(() => analyzeUpdate(new Y.Doc(), split)).toThrow(/malformed/);
  });

  it('clients out of order (Y.mergeUpdates, which joins an update with the server’s part, drops the structs of one)', () => {
    // Found by hostileUpdates.test.ts (seed 103225): a new message under a client id named after
    // a lower one was judged and numbered, but the log entry (the update merged with the
    // server's sequence items) no longer held it.
    const server = new Y.Doc();
    const one = new Y.Doc({ gc: true });
    one.clientID = 1;
    const two = new Y.Doc({ gc: true });
    two.clientID = 2;
    const message = crypto.randomUUID() as MessageId;
    writeMessage(one, message, { author: ada, createdAt: 1, body: 'under client 1' });
    writeReaction(two, message, '👍', ada, 2);
    // Each update is one group of structs and an empty delete set: [1, group..., 0].
    const groupOf = (doc: Y.Doc) => Y.encodeStateAsUpdate(doc).subarray(1, -1);
    const bytes = (groups: Uint8Array[]) => Uint8Array.from([groups.length, ...groups.flatMap((g) => [...g]), 0]);
    const ascending = bytes([groupOf(one), groupOf(two)]);
    const descending = bytes([groupOf(two), groupOf(one)]);
    expect(Y.decodeUpdate(ascending).structs).toHaveLength(2);
    const nothing = Uint8Array.from([0, 0]);
    expect(Y.decodeUpdate(Y.mergeUpdates([ascending, nothing])).structs).toHaveLength(1);
    expect(() => analyzeUpdate(server, ascending)).toThrow(/malformed update \(clients out of order/);
    // As Yjs writes them, the same structs are judged and kept by the merge.
    expect(Y.decodeUpdate(Y.mergeUpdates([descending, nothing])).structs).toHaveLength(2);
    expect(judge(server, descending, ada)).toMatchObject({ held: false, changes: { messages: [{ id: message }] } });
  });

  it('a struct resent in part with an origin in another key (Yjs would delete that client’s last item)', () => {
    // Found by hostileUpdates.test.ts (seed 206421): Yjs integrates the unknown part of a struct
    // right after its client's own last item but under the key its origin names, and deletes
    // that last item — another user's message, under their client id.
    const { server, id: bobs } = serverWithMessage(bob);
    const theirs = server.store.clients.get([...server.store.clients.keys()][0] as number)?.[0] as Y.Item;
    const adas = crypto.randomUUID() as MessageId;
    accept(server, updateFrom(server, (d) => writeMessage(d, adas, { author: ada, createdAt: 2, body: 'mine' })), ada);
    const mine = [...server.store.clients.values()].map((list) => list[0] as Y.Item).find((item) => item.parentSub === adas) as Y.Item;
    // Bob's client, clock 0 (known) and 1 (new), its origin Ada's message.
    const forged = new Y.Item(Y.createID(theirs.id.client, 0), null, mine.id, null, null, null, null, new Y.ContentDeleted(2));
    const update = updateOf([[forged]]);
    const yjs = new Y.Doc();
    Y.applyUpdate(yjs, Y.encodeStateAsUpdate(server));
    Y.applyUpdate(yjs, update);
    expect(segmentMaps(yjs).messages.has(bobs)).toBe(false);
    expect(() => judge(server, update, ada)).toThrow(/malformed update \(a struct resent in part/);
  });

  it('a write without a value that would take a read position’s key (it would remove the read position)', () => {
    // Found by hostileUpdates.test.ts (seed 332801).
    const phone = new Y.Doc();
    const conversation = crypto.randomUUID() as ConversationId;
    markRead(phone, conversation, device, 3);
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(phone));
    const read = phone.store.clients.get(phone.clientID)?.[0] as Y.Item;
    const valueless = new Y.Item(Y.createID(phone.clientID, 1), null, read.id, null, null, null, null, new Y.ContentDeleted(1));
    const update = updateOf([[valueless]]);
    const yjs = new Y.Doc();
    Y.applyUpdate(yjs, Y.encodeStateAsUpdate(server));
    Y.applyUpdate(yjs, update);
    expect(yjs.getMap('reads').size).toBe(0);
    expect(() => validateUser(analyzeUpdate(server, update), { userId: ada, deviceId: device })).toThrow(/a read position is never removed/);
  });

  it('an empty delete range past what the document has (Yjs throws while applying it)', () => {
    // Found by hostileUpdates.test.ts (seeds 280 and 1489): accepted, logged, then applying the
    // log entry threw, on this node and on every later load of the document.
    const [first] = twoReads();
    const empty = updateOf([[first]], [{ client: 5, clock: 1, len: 0 }]);
    expect(() => Y.applyUpdate(new Y.Doc(), empty)).toThrow();
    expect(() => analyzeUpdate(new Y.Doc(), empty)).toThrow(/malformed/);
  });

  it('a struct the document has already, resent with origins that do not exist', () => {
    // Found by hostileUpdates.test.ts (seeds 27767 and 8089): Yjs resolves the origins of a
    // struct it already has before it skips it, so a bogus own origin makes it throw (after the
    // write path has logged the update), and an unknown one leaves the update pending.
    const [first, second] = twoReads();
    const server = new Y.Doc();
    Y.applyUpdate(server, updateOf([[first, second]]));
    const resent = Y.decodeUpdate(updateOf([[first, second]])).structs as [Y.Item, Y.Item];
    resent[0].rightOrigin = Y.createID(first.id.client, 5); // a later clock of its own client
    const throwing = updateOf([[resent[0]]]);
    expect(() => Y.applyUpdate(clientOf(server), throwing)).toThrow();
    expect(() => analyzeUpdate(server, throwing)).toThrow(/malformed/);
    resent[0].rightOrigin = null;
    resent[0].origin = Y.createID(424242, 7); // someone's struct nobody has
    const waiting = updateOf([resent]);
    const yjs = clientOf(server);
    Y.applyUpdate(yjs, waiting);
    expect(yjs.store.pendingStructs).not.toBeNull();
    expect(analyzeUpdate(server, waiting).integrable).toBe(false);
  });

  it('another device’s read positions, and removing a read position', () => {
    const server = new Y.Doc();
    const conversation = crypto.randomUUID();
    const other = analyzeUpdate(server, updateFrom(server, (d) => d.getMap('reads').set(`${conversation}/${crypto.randomUUID()}`, 4)));
    expect(() => validateUser(other, { userId: ada, deviceId: device })).toThrow(/its own read positions/);
    const own = updateFrom(server, (d) => d.getMap('reads').set(`${conversation}/${device}`, 4));
    Y.applyUpdate(server, own);
    const removal = analyzeUpdate(server, updateFrom(server, (d) => d.getMap('reads').delete(`${conversation}/${device}`)));
    expect(() => validateUser(removal, { userId: ada, deviceId: device })).toThrow(/never removed/);
  });

  it('accepts notification levels per conversation and known preferences, and refuses anything else there', () => {
    const server = new Y.Doc();
    const conversation = crypto.randomUUID();
    const me = { userId: ada, deviceId: device };
    const honest = updateFrom(server, (d) => {
      d.getMap('notify').set(conversation, 'none');
      d.getMap('preferences').set('dndUntil', Date.now() + 3_600_000);
      d.getMap('preferences').set('sound', true);
    });
    expect(validateUser(analyzeUpdate(server, honest), me)).toEqual({ reads: [] });
    Y.applyUpdate(server, honest);
    expect(validateUser(analyzeUpdate(server, updateFrom(server, (d) => d.getMap('notify').delete(conversation))), me)).toEqual({ reads: [] });
    expect(() => validateUser(analyzeUpdate(server, updateFrom(server, (d) => d.getMap('notify').set(conversation, 'loud'))), me)).toThrow(/notify level is malformed/);
    expect(() => validateUser(analyzeUpdate(server, updateFrom(server, (d) => d.getMap('notify').set('general', 'all'))), me)).toThrow(/notify key is a conversation id/);
    expect(() => validateUser(analyzeUpdate(server, updateFrom(server, (d) => d.getMap('preferences').set('theme', 'dark'))), me)).toThrow(/unknown preference "theme"/);
    expect(() => validateUser(analyzeUpdate(server, updateFrom(server, (d) => d.getMap('preferences').set('sound', 'yes'))), me)).toThrow(/preference sound is malformed/);
    expect(() => validateUser(analyzeUpdate(server, updateFrom(server, (d) => d.getMap('preferences').set('dndUntil', -5))), me)).toThrow(/preference dndUntil is malformed/);
  });
});

/** Two read positions written by one device: two structs of one client, clocks 0 and 1. */
function twoReads(): [Y.Item, Y.Item] {
  const phone = new Y.Doc();
  markRead(phone, crypto.randomUUID() as ConversationId, device, 1);
  markRead(phone, crypto.randomUUID() as ConversationId, device, 2);
  return Y.decodeUpdate(Y.encodeStateAsUpdate(phone)).structs as [Y.Item, Y.Item];
}

/** Encodes groups of structs (each group: one client, consecutive clocks) and a delete set, as given. */
function updateOf(groups: Y.Item[][], deletes: { client: number; clock: number; len: number }[] = []): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, groups.length);
  for (const group of groups) {
    const first = group[0] as Y.Item;
    encoding.writeVarUint(encoder.restEncoder, group.length);
    encoder.writeClient(first.id.client);
    encoding.writeVarUint(encoder.restEncoder, first.id.clock);
    for (const item of group) item.write(encoder, 0);
  }
  encoding.writeVarUint(encoder.restEncoder, deletes.length);
  for (const { client, clock, len } of deletes) {
    encoder.resetDsCurVal();
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, 1);
    encoder.writeDsClock(clock);
    encoder.writeDsLen(len);
  }
  return encoder.toUint8Array();
}

/**
 * An update of one GC struct per client id (a few bytes each that claim state-vector entries),
 * one group each, in the order given (Yjs writes the highest first).
 */
function gcUpdate(clients: number[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, clients.length);
  for (const client of clients) {
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, 0);
    encoding.writeUint8(encoder, 0); // GC
    encoding.writeVarUint(encoder, 1);
  }
  encoding.writeVarUint(encoder, 0);
  return encoding.toUint8Array(encoder);
}
