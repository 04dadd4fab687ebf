// A database as schema version 2 left it, and what migration 3 must make of it, for both
// backends: each test builds the old tables with its own driver, inserts these rows, migrates
// and hands the storage to `expectMigrated`.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import * as Y from 'yjs';
import { inboxDoc, segmentDoc, serverDoc, userDoc, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import type { StoredDocument, Storage } from '../Storage.ts';
import { accepted, commitOne, entryBytes, versionOf } from './contract/context.ts';

export type OldValue = string | number | Uint8Array | null;

/** A row of the version-2 schema, in an order that satisfies its foreign keys. */
export interface OldRow {
  table: string;
  values: Record<string, OldValue>;
}

/** The rows to insert, and what the checks need to know about them. */
export interface Version2Database {
  rows: OldRow[];
  alice: UserId;
  bob: UserId;
  /** head 1, last seq 5; segment 0 compacted before (snapshot + entries), segment 1 not. */
  conversation: ConversationId;
  /** head 0, last seq 2, both messages in segment 0. */
  quiet: ConversationId;
  messages: { plain: MessageId; edited: MessageId; deleted: MessageId; inHead: MessageId };
  docs: {
    compacted: { name: string; snapshot: Uint8Array; entries: Uint8Array[]; keys: string[] };
    plain: { name: string; entries: Uint8Array[] };
    userLog: { name: string; entries: Uint8Array[] };
    userSnapshotOnly: { name: string; snapshot: Uint8Array };
    dropped: string[];
  };
}

const T = 1_700_000_000_000;
const EDITED_AT = T + 50_000;
const DELETED_AT = T + 60_000;

/** `count` writes of one client to the `messages` map, as Yjs would send them. */
function edits(count: number, prefix: string): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  for (let index = 0; index < count; index++) doc.getMap('messages').set(`${prefix}${index}`, index);
  return updates;
}

export function version2Database(): Version2Database {
  const alice = randomUUID() as UserId;
  const bob = randomUUID() as UserId;
  const conversation = randomUUID() as ConversationId;
  const quiet = randomUUID() as ConversationId;
  const ids = Array.from({ length: 7 }, () => randomUUID() as MessageId);
  const [plain, edited, inOld, inHead, deleted, last, quietOne] = ids;
  const seg0 = edits(5, 's0-');
  const seg1 = edits(3, 's1-');
  const user = edits(1, 'u-');
  const snapshot = Y.mergeUpdates(seg0.slice(0, 3));
  const bobSnapshot = Y.mergeUpdates(edits(2, 'b-'));
  const names = {
    seg0: segmentDoc(conversation, 0),
    seg1: segmentDoc(conversation, 1),
    order: `${segmentDoc(conversation, 0)}:order`,
    server: serverDoc(conversation),
    inbox: inboxDoc(alice),
    userAlice: userDoc(alice),
    userBob: userDoc(bob),
  };

  const user_ = (id: UserId, username: string): OldRow => ({
    table: 'users',
    values: { id, username, display_name: username, password_hash: `scrypt$${username}`, created_at: T },
  });
  const message = (conversationId: ConversationId, id: MessageId, seq: number, segment: number, body: string, more: Record<string, OldValue> = {}): OldRow => ({
    table: 'messages',
    values: {
      conversation_id: conversationId, id, seq, segment, author: alice, created_at: T + seq, received_at: T + seq, body,
      reply_to: null, edited_at: null, deleted_at: null, ...more,
    },
  });
  const update = (position: number, docName: string, bytes: Uint8Array): OldRow => ({
    table: 'doc_updates',
    values: { position, doc_name: docName, update: bytes },
  });

  const rows: OldRow[] = [
    user_(alice, 'alice'),
    user_(bob, 'bob'),
    { table: 'conversations', values: { id: conversation, kind: 'group', title: 'old', created_by: alice, created_at: T, head: 1, last_seq: 6, dm_key: null } },
    { table: 'conversations', values: { id: quiet, kind: 'group', title: 'quiet', created_by: alice, created_at: T, head: 0, last_seq: 2, dm_key: null } },
    ...[alice, bob].map((userId): OldRow => ({ table: 'members', values: { conversation_id: conversation, user_id: userId, role: userId === alice ? 'owner' : 'member', joined_at: T } })),
    { table: 'members', values: { conversation_id: quiet, user_id: alice, role: 'owner', joined_at: T } },
    message(conversation, plain!, 1, 0, 'plain'),
    // Version 2 overwrote the body with the edit.
    message(conversation, edited!, 2, 0, 'edited text', { edited_at: EDITED_AT }),
    message(conversation, inOld!, 3, 0, 'late in segment 0'),
    message(conversation, inHead!, 4, 1, 'in the head'),
    // Version 2 kept a deleted message's text.
    message(conversation, deleted!, 5, 1, 'deleted text', { edited_at: EDITED_AT, deleted_at: DELETED_AT }),
    message(conversation, last!, 6, 1, 'last'),
    message(quiet, quietOne!, 1, 0, 'one'),
    message(quiet, randomUUID() as MessageId, 2, 0, 'two'),
    { table: 'read_positions', values: { conversation_id: conversation, user_id: alice, seq: 3 } },
    { table: 'read_positions', values: { conversation_id: conversation, user_id: bob, seq: 6 } },
    // Segment 0 was compacted at position 5: entries 1 and 2 were trimmed, entry 5 (also in the
    // snapshot) was left behind by a racing trim; 8 and 12 came after.
    { table: 'doc_snapshots', values: { doc_name: names.seg0, snapshot, position: 5 } },
    update(3, names.seg1, seg1[0]!),
    update(4, names.order, new Uint8Array([4])),
    update(5, names.seg0, seg0[2]!),
    update(6, names.server, new Uint8Array([6])),
    update(7, names.inbox, new Uint8Array([7])),
    update(8, names.seg0, seg0[3]!),
    update(9, names.seg1, seg1[1]!),
    update(10, names.order, new Uint8Array([10])),
    update(11, names.userAlice, user[0]!),
    update(12, names.seg0, seg0[4]!),
    update(13, names.seg1, seg1[2]!),
    { table: 'doc_snapshots', values: { doc_name: names.order, snapshot: new Uint8Array([1]), position: 4 } },
    { table: 'doc_snapshots', values: { doc_name: names.server, snapshot: new Uint8Array([2]), position: 2 } },
    { table: 'doc_snapshots', values: { doc_name: names.userBob, snapshot: bobSnapshot, position: 14 } },
    { table: 'doc_clients', values: { doc_name: names.seg0, client_id: 11, user_id: alice } },
    { table: 'doc_clients', values: { doc_name: names.seg0, client_id: 12, user_id: bob } },
    { table: 'doc_clients', values: { doc_name: names.order, client_id: 13, user_id: alice } },
    { table: 'doc_clients', values: { doc_name: names.inbox, client_id: 14, user_id: alice } },
  ];
  return {
    rows,
    alice,
    bob,
    conversation,
    quiet,
    messages: { plain: plain!, edited: edited!, deleted: deleted!, inHead: inHead! },
    docs: {
      compacted: { name: names.seg0, snapshot, entries: seg0.slice(3), keys: seg0.map((_, index) => `s0-${index}`) },
      plain: { name: names.seg1, entries: seg1 },
      userLog: { name: names.userAlice, entries: user },
      userSnapshotOnly: { name: names.userBob, snapshot: bobSnapshot },
      dropped: [names.order, names.server, names.inbox],
    },
  };
}

function keys(stored: StoredDocument): string[] {
  const doc = new Y.Doc();
  if (stored.base) Y.applyUpdate(doc, stored.base);
  for (const entry of stored.entries) Y.applyUpdate(doc, entry.update);
  return Object.keys(doc.getMap('messages').toJSON()).sort();
}

/**
 * Checks what migration 3 promises on a storage migrated from `old`. `storedText` reads a
 * message's raw `body` and `edited_body` columns, which no interface shows.
 */
export async function expectMigrated(
  storage: Storage,
  old: Version2Database,
  storedText: (conversationId: ConversationId, id: MessageId) => Promise<{ body: string; edited_body: string | null }>,
): Promise<void> {
  const { log } = storage;
  const { compacted, plain, userLog, userSnapshotOnly, dropped } = old.docs;

  // A snapshot becomes the base at version 1, and the segment entries after it follow in order.
  const afterBase = compacted.entries.map((update, index) => ({ version: index + 2, update }));
  expect(await log.load(compacted.name)).toEqual({ base: compacted.snapshot, baseVersion: 1, entries: afterBase, version: 3 });
  expect(keys(await log.load(compacted.name))).toEqual(compacted.keys);
  // A reader with nothing (version 0) must load the base: it is not told "nothing is missing".
  expect(await log.after(compacted.name, 0)).toBeNull();
  expect(await log.after(compacted.name, 1)).toEqual(afterBase);
  expect(await log.load(plain.name)).toEqual({ base: null, baseVersion: 0, entries: plain.entries.map((update, index) => ({ version: index + 1, update })), version: 3 });
  expect(await log.load(userLog.name)).toEqual({ base: null, baseVersion: 0, entries: [{ version: 1, update: userLog.entries[0] }], version: 1 });
  expect(await log.load(userSnapshotOnly.name)).toEqual({ base: userSnapshotOnly.snapshot, baseVersion: 1, entries: [], version: 1 });
  expect(await log.after(userSnapshotOnly.name, 0)).toBeNull();
  expect(await log.countEntries(compacted.name)).toBe(2);
  // Server-owned documents and the :order companions are rebuilt from the tables: no log left.
  for (const name of dropped) {
    expect(await log.load(name)).toEqual({ base: null, baseVersion: 0, entries: [], version: 0 });
  }

  // The heads agree with the logs: a write on the last version lands, one on an older is stale.
  for (const [name, version] of [[compacted.name, 3], [plain.name, 3], [userLog.name, 1], [userSnapshotOnly.name, 1]] as const) {
    expect(await commitOne(log, { doc: name, base: version - 1, entry: entryBytes() })).toEqual({ ok: false, reason: 'stale' });
  }
  for (const [name, version] of [[compacted.name, 3], [plain.name, 3], [userLog.name, 1], [userSnapshotOnly.name, 1], ...dropped.map((name) => [name, 0] as const)] as const) {
    expect(await commitOne(log, { doc: name, base: version, entry: entryBytes() })).toMatchObject({ ok: true, version: version + 1 });
  }

  // Client ids of kept documents keep their owners; those of dropped documents are gone.
  expect(await commitOne(log, { doc: compacted.name, base: 4, entry: entryBytes(), clients: { userId: old.alice, ids: [11, 12] } })).toEqual({
    ok: false,
    reason: 'clientTaken',
    ids: [12],
  });
  accepted(await commitOne(log, { doc: dropped[0]!, base: 1, entry: entryBytes(), clients: { userId: old.bob, ids: [13] } }));

  // Conversations keep head and last seq; head_count counts the head segment's messages, so the
  // head moves after segmentSize of them in all: here two more for a segment size of 5 …
  expect(await storage.conversations.getConversation(old.conversation)).toMatchObject({ head: 1, lastSeq: 6 });
  const numberOne = async (conversationId: ConversationId, segment: number, segmentSize: number) => {
    const doc = segmentDoc(conversationId, segment);
    const list = [{ id: randomUUID() as MessageId, segment, author: old.alice, createdAt: T, body: 'new' }];
    return accepted(await commitOne(log, { doc, base: await versionOf(log, doc), entry: entryBytes(), messages: { conversationId, segmentSize, list } })).cursor;
  };
  expect(await numberOne(old.conversation, 1, 5)).toEqual({ conversationId: old.conversation, lastSeq: 7, head: 1 });
  expect(await numberOne(old.conversation, 1, 5)).toEqual({ conversationId: old.conversation, lastSeq: 8, head: 2 });
  // … and one more for the other conversation's two messages in segment 0 and a size of 3.
  expect(await numberOne(old.quiet, 0, 3)).toEqual({ conversationId: old.quiet, lastSeq: 3, head: 1 });
  // Messages numbered before keep their numbers.
  const again = { id: old.messages.inHead, segment: 1, author: old.alice, createdAt: T, body: 'in the head' };
  const doc = segmentDoc(old.conversation, 1);
  expect(
    accepted(await commitOne(log, { doc, base: await versionOf(log, doc), entry: entryBytes(), messages: { conversationId: old.conversation, segmentSize: 5, list: [again] } }))
      .numbers,
  ).toEqual([{ id: old.messages.inHead, seq: 4, segment: 1, receivedAt: T + 4 }]);

  // The edit lives beside the body; a deleted message keeps no text at all.
  expect(await storage.projection.getMessage(old.conversation, old.messages.edited)).toMatchObject({ body: 'edited text', editedAt: EDITED_AT, deletedAt: null });
  expect(await storage.projection.getMessage(old.conversation, old.messages.plain)).toMatchObject({ body: 'plain', editedAt: null });
  expect(await storage.projection.getMessage(old.conversation, old.messages.deleted)).toMatchObject({ body: '', editedAt: null, deletedAt: DELETED_AT });
  expect(await storedText(old.conversation, old.messages.deleted)).toEqual({ body: '', edited_body: null });
  expect(await storedText(old.conversation, old.messages.edited)).toEqual({ body: 'edited text', edited_body: 'edited text' });

  // Everything else stays: read positions, members, and former members can be recorded.
  expect(await storage.projection.getReadPositions(old.conversation)).toEqual(
    new Map([
      [old.alice, 3],
      [old.bob, 6],
    ]),
  );
  expect((await storage.accounts.getUserById(old.bob))?.username).toBe('bob');
  expect(await storage.conversations.removeMember(old.conversation, old.bob, old.alice, T + 70_000)).toBe(true);
  expect(await storage.conversations.getFormerMembers(old.conversation)).toEqual([{ userId: old.bob, leftAt: T + 70_000, removedBy: old.alice }]);

  // Migration 4: a group made before has its creation as the first event of its timeline.
  expect((await storage.conversations.listEvents(old.conversation, 10)).map(({ id: _id, ...event }) => event)).toEqual([
    { kind: 'created', at: T, actor: old.alice, subject: null, title: 'old' },
    { kind: 'removed', at: T + 70_000, actor: old.alice, subject: old.bob, title: null },
  ]);
}
