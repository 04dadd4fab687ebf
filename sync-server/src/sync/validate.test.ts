// The validator decides from an update's structure; these cases build updates the SDK never
// would and check each rule refuses them while honest updates pass.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  reactionKey,
  segmentMaps,
  writeEdit,
  writeMessage,
  writeReaction,
  writeDeletion,
  type DeviceId,
  type MessageId,
  type UserId,
} from '@outpost/shared-schema';
import { validateSegmentUpdate, validateUserUpdate } from './validate.ts';

const ada = crypto.randomUUID() as UserId;
const bob = crypto.randomUUID() as UserId;
const device = crypto.randomUUID() as DeviceId;

/** The update that `change` makes to a copy of `server`. */
function updateFrom(server: Y.Doc, change: (doc: Y.Doc) => void): Uint8Array {
  const client = new Y.Doc();
  Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
  const before = Y.encodeStateVector(client);
  change(client);
  return Y.encodeStateAsUpdate(client, before);
}

const as = (userId: UserId, role: 'member' | 'admin' = 'member') => ({
  sender: { userId, deviceId: device },
  senderRole: role,
  authorOf: () => undefined,
});

function serverWithMessage(author: UserId): { server: Y.Doc; id: MessageId } {
  const server = new Y.Doc();
  const id = crypto.randomUUID() as MessageId;
  Y.applyUpdate(server, updateFrom(server, (d) => writeMessage(d, id, { author, createdAt: 1, body: 'hi' })));
  return { server, id };
}

describe('validateSegmentUpdate', () => {
  it('accepts a new message by its author and lists it', () => {
    const server = new Y.Doc();
    const id = crypto.randomUUID() as MessageId;
    const changes = validateSegmentUpdate(server, updateFrom(server, (d) => writeMessage(d, id, { author: ada, createdAt: 1, body: 'hi' })), as(ada));
    expect(changes?.changes.messages.map((m) => m.id)).toEqual([id]);
  });

  it('refuses a forged author', () => {
    const server = new Y.Doc();
    const update = updateFrom(server, (d) => writeMessage(d, crypto.randomUUID() as MessageId, { author: bob, createdAt: 1, body: 'hi' }));
    expect(() => validateSegmentUpdate(server, update, as(ada))).toThrow(/author must be the sender/);
  });

  it('refuses overwriting an existing message entry', () => {
    const { server, id } = serverWithMessage(ada);
    const update = updateFrom(server, (d) => writeMessage(d, id, { author: ada, createdAt: 2, body: 'rewritten' }));
    expect(() => validateSegmentUpdate(server, update, as(ada))).toThrow(/written once/);
  });

  it('lets only the author edit; lets the author or an admin delete', () => {
    const { server, id } = serverWithMessage(ada);
    expect(() => validateSegmentUpdate(server, updateFrom(server, (d) => writeEdit(d, id, { body: 'x', editedAt: 2 })), as(bob))).toThrow(/only the author edits/);
    expect(validateSegmentUpdate(server, updateFrom(server, (d) => writeEdit(d, id, { body: 'x', editedAt: 2 })), as(ada))?.changes.edits).toHaveLength(1);
    const deleteAs = (user: UserId) => updateFrom(server, (d) => writeDeletion(d, id, { by: user, at: 3 }));
    expect(() => validateSegmentUpdate(server, deleteAs(bob), as(bob))).toThrow(/only the author or a group admin/);
    expect(validateSegmentUpdate(server, deleteAs(bob), as(bob, 'admin'))?.changes.deletions).toHaveLength(1);
  });

  it('refuses a reaction in someone else’s name and removing someone else’s reaction', () => {
    const { server, id } = serverWithMessage(ada);
    expect(() => validateSegmentUpdate(server, updateFrom(server, (d) => writeReaction(d, id, '👍', bob, 1)), as(ada))).toThrow(/own user id/);
    Y.applyUpdate(server, updateFrom(server, (d) => writeReaction(d, id, '👍', bob, 1)));
    const removal = updateFrom(server, (d) => segmentMaps(d).reactions.delete(reactionKey(id, '👍', bob)));
    expect(() => validateSegmentUpdate(server, removal, as(ada))).toThrow(/your own reactions/);
    expect(validateSegmentUpdate(server, removal, as(bob))?.changes.reactions).toBe(1);
  });

  it('refuses unknown roots, nested types and removing message entries', () => {
    const { server, id } = serverWithMessage(ada);
    expect(() => validateSegmentUpdate(server, updateFrom(server, (d) => d.getMap('seq').set(id, 1)), as(ada))).toThrow(/unknown root/);
    expect(() => validateSegmentUpdate(server, updateFrom(server, (d) => d.getMap('edits').set(id, new Y.Map())), as(ada))).toThrow(/plain values|nested/);
    expect(() => validateSegmentUpdate(server, updateFrom(server, (d) => segmentMaps(d).messages.delete(id)), as(ada))).toThrow(/cannot be removed/);
  });

  it('treats an update the document already has as no change', () => {
    const { server } = serverWithMessage(ada);
    expect(validateSegmentUpdate(server, Y.encodeStateAsUpdate(server), as(ada))).toBeNull();
  });
});

describe('validateUserUpdate', () => {
  it('accepts this device’s read position and refuses another device’s', () => {
    const server = new Y.Doc();
    const conversation = crypto.randomUUID();
    const own = updateFrom(server, (d) => d.getMap('reads').set(`${conversation}/${device}`, 4));
    expect(validateUserUpdate(server, own, { userId: ada, deviceId: device })?.changes.reads).toEqual([{ conversationId: conversation, seq: 4 }]);
    const other = updateFrom(server, (d) => d.getMap('reads').set(`${conversation}/${crypto.randomUUID()}`, 4));
    expect(() => validateUserUpdate(server, other, { userId: ada, deviceId: device })).toThrow(/its own read positions/);
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
    expect(validateUserUpdate(server, honest, me)).not.toBeNull();
    Y.applyUpdate(server, honest);
    expect(validateUserUpdate(server, updateFrom(server, (d) => d.getMap('notify').delete(conversation)), me)).not.toBeNull();
    expect(() => validateUserUpdate(server, updateFrom(server, (d) => d.getMap('notify').set(conversation, 'loud')), me)).toThrow(/notify level is malformed/);
    expect(() => validateUserUpdate(server, updateFrom(server, (d) => d.getMap('notify').set('general', 'all')), me)).toThrow(/notify key must be a conversation id/);
    expect(() => validateUserUpdate(server, updateFrom(server, (d) => d.getMap('preferences').set('theme', 'dark')), me)).toThrow(/unknown preference "theme"/);
    expect(() => validateUserUpdate(server, updateFrom(server, (d) => d.getMap('preferences').set('sound', 'yes')), me)).toThrow(/preference sound is malformed/);
    expect(() => validateUserUpdate(server, updateFrom(server, (d) => d.getMap('preferences').set('dndUntil', -5)), me)).toThrow(/preference dndUntil is malformed/);
  });
});
