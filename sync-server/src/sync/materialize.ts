// Server-owned documents (order, server, inbox) are views of relational truth in storage: the
// database is written first, then these documents are brought in line, on load and on change.
// A server write lost in a crash is therefore redone, with the same values, on the next load.
import * as Y from 'yjs';
import {
  Limits,
  inboxMap,
  serverMaps,
  writeInboxEntry,
  writeMeta,
  writeSeq,
  type ConversationId,
  type InboxEntry,
  type MemberEntry,
  type UserId,
} from '@outpost/shared-schema';
import type { ConversationRecord, Storage } from '@outpost/storage';
import { SERVER_ORIGIN } from './documentStore.ts';

/** Makes `:order` of one segment hold every number storage has for it. */
export async function materializeOrder(storage: Storage, doc: Y.Doc, conversationId: ConversationId, segment: number): Promise<void> {
  const numbers = await storage.listSegmentNumbers(conversationId, segment);
  doc.transact(() => {
    for (const n of numbers) writeSeq(doc, n.id, { seq: n.seq, at: n.receivedAt });
  }, SERVER_ORIGIN);
}

/** Makes `conv:<id>:server` match the conversation, its members and their read positions. */
export async function materializeServer(storage: Storage, doc: Y.Doc, conversationId: ConversationId, segmentSize: number): Promise<void> {
  const [conversation, members, reads] = await Promise.all([
    storage.getConversation(conversationId),
    storage.getMembers(conversationId),
    storage.getReadPositions(conversationId),
  ]);
  if (!conversation) return;
  const maps = serverMaps(doc);
  doc.transact(() => {
    writeMeta(doc, {
      kind: conversation.kind,
      title: conversation.title,
      createdBy: conversation.createdBy,
      createdAt: conversation.createdAt,
      head: conversation.head,
      lastSeq: conversation.lastSeq,
      segmentSize,
    });
    const current = new Set<string>();
    for (const member of members) {
      current.add(member.userId);
      const entry: MemberEntry = { role: member.role, joinedAt: member.joinedAt };
      const existing = maps.members.get(member.userId);
      if (!existing || existing.role !== entry.role || existing.joinedAt !== entry.joinedAt) maps.members.set(member.userId, entry);
      const read = reads.get(member.userId) ?? 0;
      if ((maps.receipts.get(member.userId)?.read ?? -1) !== read) maps.receipts.set(member.userId, { read });
    }
    for (const userId of [...maps.members.keys()]) if (!current.has(userId)) maps.members.delete(userId);
    for (const userId of [...maps.receipts.keys()]) if (!current.has(userId)) maps.receipts.delete(userId);
  }, SERVER_ORIGIN);
}

function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > Limits.preview ? `${flat.slice(0, Limits.preview - 1)}…` : flat;
}

/** One user's inbox entry for one conversation, computed from storage. */
export async function inboxEntry(storage: Storage, conversation: ConversationRecord, userId: UserId): Promise<InboxEntry> {
  const [last, reads, title] = await Promise.all([
    storage.lastMessage(conversation.id),
    storage.getReadPositions(conversation.id),
    conversationTitle(storage, conversation, userId),
  ]);
  const unread = await storage.countUnread(conversation.id, userId, reads.get(userId) ?? 0);
  return {
    kind: conversation.kind,
    title,
    lastSeq: conversation.lastSeq,
    lastMessage: last ? { id: last.id, author: last.author, preview: preview(last.body), at: last.receivedAt } : null,
    unread,
    mentions: 0,
    updatedAt: Math.max(conversation.createdAt, last?.receivedAt ?? 0),
  };
}

/** A DM is titled with the other person's name, a group with its title. */
async function conversationTitle(storage: Storage, conversation: ConversationRecord, userId: UserId): Promise<string> {
  if (conversation.kind === 'group') return conversation.title;
  const members = await storage.getMembers(conversation.id);
  const other = members.find((m) => m.userId !== userId) ?? members[0];
  if (!other) return conversation.title;
  return (await storage.getUserById(other.userId))?.displayName ?? conversation.title;
}

/** Makes `inbox:<id>` list exactly the user's conversations, each entry up to date. */
export async function materializeInbox(storage: Storage, doc: Y.Doc, userId: UserId): Promise<void> {
  const conversations = await storage.listConversations(userId);
  const entries = await Promise.all(conversations.map(async (c) => [c.id, await inboxEntry(storage, c, userId)] as const));
  const map = inboxMap(doc);
  doc.transact(() => {
    const keep = new Set<string>();
    for (const [id, entry] of entries) {
      keep.add(id);
      writeInboxEntry(doc, id, entry);
    }
    for (const id of [...map.keys()]) if (!keep.has(id)) map.delete(id);
  }, SERVER_ORIGIN);
}

/** Updates (or removes) one conversation's entry in a loaded inbox. */
export async function materializeInboxEntry(storage: Storage, doc: Y.Doc, userId: UserId, conversationId: ConversationId): Promise<void> {
  const conversation = await storage.getConversation(conversationId);
  const role = conversation ? await storage.getMemberRole(conversationId, userId) : null;
  const entry = conversation && role ? await inboxEntry(storage, conversation, userId) : null;
  doc.transact(() => {
    if (entry) writeInboxEntry(doc, conversationId, entry);
    else if (inboxMap(doc).has(conversationId)) inboxMap(doc).delete(conversationId);
  }, SERVER_ORIGIN);
}
