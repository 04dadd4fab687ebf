// After the server refuses a document's update, the SDK throws its local copy away, syncs a
// fresh one from the server, and carries over only what is still valid of its own work. This
// is the "what is still valid" part: a pure comparison of the quarantined and the fresh copy.
import type * as Y from 'yjs';
import {
  markRead,
  parseReadKey,
  userMaps,
  parseReactionKey,
  segmentMaps,
  writeDeletion,
  writeEdit,
  writeMessage,
  type MessageId,
  type Role,
  type UserId,
} from '@outpost/shared-schema';

/** One piece of local work that could not be carried over, and why. */
export interface LostChange {
  kind: 'message' | 'edit' | 'deletion' | 'reaction';
  messageId: MessageId;
  reason: string;
}

export interface Salvage {
  /** How many of the sender's changes were carried over into the fresh copy. */
  carried: number;
  lost: LostChange[];
}

/**
 * Re-applies to `fresh` (the server's state) the sender's own changes found in `quarantined`
 * that the rules still allow, in one transaction, and lists the ones that they do not.
 */
export function salvageSegment(quarantined: Y.Doc, fresh: Y.Doc, me: UserId, role: Role | null, locked = false): Salvage {
  const local = segmentMaps(quarantined);
  const server = segmentMaps(fresh);
  const lost: LostChange[] = [];
  let carried = 0;
  const moderator = role === 'owner' || role === 'admin';
  fresh.transact(() => {
    if (role === null) {
      for (const [id, entry] of local.messages.entries()) {
        if (entry.author === me && !server.messages.has(id)) lost.push({ kind: 'message', messageId: id as MessageId, reason: 'you are no longer a member of this conversation' });
      }
      return;
    }
    for (const [id, entry] of local.messages.entries()) {
      if (entry.author !== me || server.messages.has(id)) continue;
      if (locked && !moderator) {
        lost.push({ kind: 'message', messageId: id as MessageId, reason: 'the group is locked: only its owner and admins can post' });
        continue;
      }
      writeMessage(fresh, id as MessageId, entry);
      carried += 1;
    }
    const authorOf = (id: string) => server.messages.get(id)?.author;
    for (const [id, edit] of local.edits.entries()) {
      const current = server.edits.get(id);
      if (current && current.editedAt >= edit.editedAt) continue;
      if (authorOf(id) !== me) continue; // someone else's edit, or a message that is gone
      if (server.deletions.has(id)) {
        lost.push({ kind: 'edit', messageId: id as MessageId, reason: 'the message was deleted' });
        continue;
      }
      writeEdit(fresh, id as MessageId, edit);
      carried += 1;
    }
    for (const [id, deletion] of local.deletions.entries()) {
      if (deletion.by !== me || server.deletions.has(id)) continue;
      const author = authorOf(id);
      if (author === undefined) continue;
      if (author !== me && !moderator) {
        lost.push({ kind: 'deletion', messageId: id as MessageId, reason: 'only the author or a group admin deletes a message' });
        continue;
      }
      writeDeletion(fresh, id as MessageId, deletion);
      carried += 1;
    }
    const mine = (key: string) => parseReactionKey(key)?.userId === me;
    for (const [key, at] of local.reactions.entries()) {
      if (!mine(key) || server.reactions.has(key)) continue;
      const target = parseReactionKey(key)?.messageId as MessageId;
      if (!server.messages.has(target) || server.deletions.has(target)) {
        lost.push({ kind: 'reaction', messageId: target, reason: 'the message is not there any more' });
        continue;
      }
      server.reactions.set(key, at);
      carried += 1;
    }
    for (const key of [...server.reactions.keys()]) {
      if (mine(key) && !local.reactions.has(key)) {
        server.reactions.delete(key);
        carried += 1;
      }
    }
  });
  return { carried, lost };
}

/**
 * The same for the user document: this device's read positions (never lower than the server's)
 * and its drafts carry over; other devices' entries are the server's business.
 */
export function salvageUser(quarantined: Y.Doc, fresh: Y.Doc, deviceId: string): Salvage {
  const local = userMaps(quarantined);
  const server = userMaps(fresh);
  let carried = 0;
  fresh.transact(() => {
    for (const [key, seq] of local.reads.entries()) {
      const parsed = parseReadKey(key);
      if (parsed?.deviceId !== deviceId) continue;
      if (markRead(fresh, parsed.conversationId, parsed.deviceId, seq)) carried += 1;
    }
    for (const [key, draft] of local.drafts.entries()) {
      if (server.drafts.get(key) === draft) continue;
      server.drafts.set(key, draft);
      carried += 1;
    }
  });
  return { carried, lost: [] };
}
