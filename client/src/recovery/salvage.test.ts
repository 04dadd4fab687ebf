import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  reactionKey,
  readSegment,
  segmentMaps,
  writeDeletion,
  writeEdit,
  writeMessage,
  writeReaction,
  type MessageId,
  type UserId,
} from '@outpost/shared-schema';
import { salvageSegment } from './salvage.ts';

const me = crypto.randomUUID() as UserId;
const other = crypto.randomUUID() as UserId;
const id = () => crypto.randomUUID() as MessageId;

/** A server copy and a local copy that started from it. */
function pair(setup: (server: Y.Doc) => void) {
  const server = new Y.Doc();
  setup(server);
  const local = new Y.Doc();
  Y.applyUpdate(local, Y.encodeStateAsUpdate(server));
  const fresh = () => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server));
    return doc;
  };
  return { server, local, fresh };
}

describe('salvageSegment', () => {
  it('carries over own new messages, edits and reactions, and drops a deletion that is no longer allowed', () => {
    const theirs = id();
    const mineOld = id();
    const { local, fresh } = pair((s) => {
      writeMessage(s, theirs, { author: other, createdAt: 1, body: 'theirs' });
      writeMessage(s, mineOld, { author: me, createdAt: 2, body: 'mine' });
    });
    const mineNew = id();
    writeMessage(local, mineNew, { author: me, createdAt: 3, body: 'written offline' });
    writeEdit(local, mineOld, { body: 'mine, edited', editedAt: 4 });
    writeReaction(local, mineOld, '👍', me, 5);
    writeDeletion(local, theirs, { by: me, at: 6 }); // allowed when I was admin; I am not any more

    const target = fresh();
    const result = salvageSegment(local, target, me, 'member');
    expect(result.lost).toEqual([{ kind: 'deletion', messageId: theirs, reason: expect.stringMatching(/only the author or a group admin/) }]);
    expect(result.carried).toBe(3);
    const view = readSegment(target);
    expect(view.get(mineNew)?.body).toBe('written offline');
    expect(view.get(mineOld)?.body).toBe('mine, edited');
    expect(view.get(theirs)?.deleted).toBeUndefined();
    expect(segmentMaps(target).reactions.has(reactionKey(mineOld, '👍', me))).toBe(true);
  });

  it('keeps the deletion for a moderator, and un-reacts what was removed locally', () => {
    const theirs = id();
    const { local, fresh } = pair((s) => {
      writeMessage(s, theirs, { author: other, createdAt: 1, body: 'theirs' });
      writeReaction(s, theirs, '🎉', me, 2);
    });
    segmentMaps(local).reactions.delete(reactionKey(theirs, '🎉', me));
    writeDeletion(local, theirs, { by: me, at: 3 });
    const target = fresh();
    // The deletion takes the message's reactions with it (the un-reaction needs no extra change).
    expect(salvageSegment(local, target, me, 'admin')).toEqual({ carried: 1, lost: [] });
    expect(readSegment(target).get(theirs)?.deleted?.by).toBe(me);
    expect(segmentMaps(target).reactions.size).toBe(0);
  });

  it('reports every own unsent message as lost when the user is no longer a member', () => {
    const { local, fresh } = pair(() => {});
    const lostId = id();
    writeMessage(local, lostId, { author: me, createdAt: 1, body: 'too late' });
    const target = fresh();
    expect(salvageSegment(local, target, me, null)).toEqual({ carried: 0, lost: [{ kind: 'message', messageId: lostId, reason: expect.any(String) }] });
    expect(segmentMaps(target).messages.size).toBe(0);
  });
});
