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
import type { ConversationRecord, MemberRecord, MessageRecord, Storage } from '@outpost/storage';
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
  const users = new Map((await storage.getUsersByIds(members.map((m) => m.userId))).map((u) => [u.id, u]));
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
      const user = users.get(member.userId);
      const entry: MemberEntry = { role: member.role, joinedAt: member.joinedAt, username: user?.username ?? '', displayName: user?.displayName ?? '' };
      const existing = maps.members.get(member.userId);
      if (!existing || JSON.stringify(existing) !== JSON.stringify(entry)) maps.members.set(member.userId, entry);
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

/** What every member's inbox entry for a conversation shares, read from storage once. */
interface ConversationFacts {
  conversation: ConversationRecord;
  last: MessageRecord | null;
  reads: Map<UserId, number>;
  members: MemberRecord[];
  /** Display names of DM members (a DM is titled with the other person's name). */
  names: Map<UserId, string>;
  /** Usernames of members, for counting @mentions. */
  handles: Map<UserId, string>;
}

async function conversationFacts(storage: Storage, conversationId: ConversationId): Promise<ConversationFacts | null> {
  const conversation = await storage.getConversation(conversationId);
  if (!conversation) return null;
  const [last, reads, members] = await Promise.all([
    storage.lastMessage(conversationId),
    storage.getReadPositions(conversationId),
    storage.getMembers(conversationId),
  ]);
  const names = new Map<UserId, string>();
  const handles = new Map<UserId, string>();
  for (const user of await storage.getUsersByIds(members.map((m) => m.userId))) {
    names.set(user.id, user.displayName);
    handles.set(user.id, user.username);
  }
  return { conversation, last, reads, members, names, handles };
}

/** One member's entry: the shared facts plus their own unread count. */
async function inboxEntry(storage: Storage, facts: ConversationFacts, userId: UserId): Promise<InboxEntry> {
  const { conversation, last } = facts;
  const other = facts.members.find((m) => m.userId !== userId) ?? facts.members[0];
  const title = conversation.kind === 'group' ? conversation.title : ((other && facts.names.get(other.userId)) ?? conversation.title);
  return {
    kind: conversation.kind,
    title,
    lastSeq: conversation.lastSeq,
    lastMessage: last ? { id: last.id, author: last.author, preview: preview(last.body), at: last.receivedAt } : null,
    unread: await storage.countUnread(conversation.id, userId, facts.reads.get(userId) ?? 0),
    mentions: await countMentions(storage, facts, userId),
    updatedAt: Math.max(conversation.createdAt, last?.receivedAt ?? 0),
  };
}

/** Unread messages that mention the user by @username (only groups: in a DM everything is for you). */
async function countMentions(storage: Storage, facts: ConversationFacts, userId: UserId): Promise<number> {
  const handle = facts.handles.get(userId);
  if (facts.conversation.kind !== 'group' || !handle) return 0;
  return storage.countMentions(facts.conversation.id, userId, facts.reads.get(userId) ?? 0, handle);
}

/** Makes `inbox:<id>` list exactly the user's conversations, each entry up to date. */
export async function materializeInbox(storage: Storage, doc: Y.Doc, userId: UserId): Promise<void> {
  const conversations = await storage.listConversations(userId);
  const entries = await Promise.all(
    conversations.map(async (c) => {
      const facts = await conversationFacts(storage, c.id);
      return facts ? ([c.id, await inboxEntry(storage, facts, userId)] as const) : null;
    }),
  );
  const map = inboxMap(doc);
  doc.transact(() => {
    const keep = new Set<string>();
    for (const pair of entries) {
      if (!pair) continue;
      keep.add(pair[0]);
      writeInboxEntry(doc, pair[0], pair[1]);
    }
    for (const id of [...map.keys()]) if (!keep.has(id)) map.delete(id);
  }, SERVER_ORIGIN);
}

/**
 * Updates one conversation's entry in the given open inboxes (removing it where the user is no
 * longer a member), reading what the entries share from storage once.
 */
export async function materializeInboxEntries(storage: Storage, conversationId: ConversationId, inboxes: readonly { userId: UserId; doc: Y.Doc }[]): Promise<void> {
  if (inboxes.length === 0) return;
  const facts = await conversationFacts(storage, conversationId);
  const members = new Set(facts?.members.map((m) => m.userId));
  const entries = await Promise.all(inboxes.map(async ({ userId }) => (facts && members.has(userId) ? inboxEntry(storage, facts, userId) : null)));
  inboxes.forEach(({ doc }, i) => {
    const entry = entries[i];
    doc.transact(() => {
      if (entry) writeInboxEntry(doc, conversationId, entry);
      else if (inboxMap(doc).has(conversationId)) inboxMap(doc).delete(conversationId);
    }, SERVER_ORIGIN);
  });
}
