// The presence relay against real SQLite: who is shown online and typing to whom, and what it asks
// storage for. Opening presence in a 300-member group asked storage once per conversation of each
// online contact (half a second of the event loop with 300 contacts online and cold caches).
import { expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import type { Document, onAwarenessUpdatePayload } from '@hocuspocus/server';
import { presenceDoc, type ConversationId, type UserId } from '@outpost/shared-schema';
import { SqliteStorage, type Storage } from '@outpost/storage';
import { PresenceRelay } from './presence.ts';
import { countedCalls } from './testing/countedCalls.ts';

async function storageWith(groups: UserId[][]): Promise<{ storage: SqliteStorage; conversations: ConversationId[] }> {
  const storage = new SqliteStorage(':memory:');
  await storage.migrate();
  const users = new Set(groups.flat());
  for (const id of users) await storage.accounts.createUser({ id, username: `u${id.slice(0, 8)}`, displayName: id.slice(0, 8), passwordHash: 'x', createdAt: 1 });
  const conversations: ConversationId[] = [];
  for (const members of groups) {
    const id = crypto.randomUUID() as ConversationId;
    conversations.push(id);
    await storage.conversations.createConversation({
      id, kind: 'group', title: 'g', createdBy: members[0]!, createdAt: 1,
      members: members.map((userId, i) => ({ userId, role: i === 0 ? ('owner' as const) : ('member' as const) })),
    });
  }
  return { storage, conversations };
}

/** The storage with the calls to its conversations counted, by method. */
function counted(storage: Storage): { storage: Storage; calls: Map<string, number> } {
  const { counted: conversations, calls } = countedCalls(storage.conversations);
  return { storage: { ...storage, conversations } as Storage, calls };
}

/** A presence document as the relay sees it: its awareness, with the user's own state when online. */
function presence(userId: UserId, typing: ConversationId | null = null): Document {
  const awareness = new Awareness(new Y.Doc());
  awareness.setLocalState({ user: { id: userId }, typing });
  return { awareness } as unknown as Document;
}

/** What `userId`'s presence document shows of others: user id → typing, for the relay's states. */
function shown(document: Document, self: UserId): Map<UserId, ConversationId | null> {
  const states = [...document.awareness.getStates().values()] as { user?: { id: UserId }; typing?: ConversationId | null }[];
  return new Map(states.filter((s) => s.user && s.user.id !== self).map((s) => [s.user!.id, s.typing ?? null]));
}

const ids = (n: number) => Array.from({ length: n }, () => crypto.randomUUID() as UserId);

it('shows someone who opens presence their online contacts, with typing only where they share the conversation', async () => {
  const [ada, bob, cyd, dan] = ids(4) as [UserId, UserId, UserId, UserId];
  const { storage, conversations } = await storageWith([[ada, bob], [bob, cyd], [ada, cyd]]);
  const [adaBob, bobCyd] = conversations as [ConversationId, ConversationId];
  const documents = new Map<string, Document>([
    [presenceDoc(ada), presence(ada)],
    [presenceDoc(bob), presence(bob, bobCyd)], // typing where ada is not
    [presenceDoc(cyd), presence(cyd)],
    [presenceDoc(dan), presence(dan)], // shares nothing with ada
  ]);
  const relay = new PresenceRelay(storage, () => documents);
  await relay.onPresenceOpened(ada);
  expect(shown(documents.get(presenceDoc(ada))!, ada)).toEqual(new Map([[bob, null], [cyd, null]]));

  documents.set(presenceDoc(bob), presence(bob, adaBob));
  const cydSees = documents.get(presenceDoc(cyd))!;
  await relay.onPresenceOpened(cyd);
  // Bob types in his conversation with ada: cyd sees him online, not where he types.
  expect(shown(cydSees, cyd)).toEqual(new Map([[bob, null], [ada, null]]));
  await relay.onPresenceOpened(ada);
  expect(shown(documents.get(presenceDoc(ada))!, ada).get(bob)).toBe(adaBob);
  await storage.close();
});

it('asks storage once when someone in a big group opens presence, however many of its members are online', async () => {
  const members = ids(300);
  const { storage } = await storageWith([members, ...Array.from({ length: 30 }, (_, i) => members.slice(i * 10, i * 10 + 10))]);
  const documents = new Map(members.map((userId) => [presenceDoc(userId), presence(userId)]));
  const { storage: counting, calls } = counted(storage);
  const relay = new PresenceRelay(counting, () => documents);
  await relay.onPresenceOpened(members[0]!);
  expect(shown(documents.get(presenceDoc(members[0]!))!, members[0]!).size).toBe(299);
  expect(Object.fromEntries(calls)).toEqual({ listContacts: 1 });
  await storage.close();
});

it('relays a burst of states as one awareness update per contact, and renewals as one per contact at moments spread over time, reading no audience again', async () => {
  // The clock and timers are the test's: renewals' moments are checked by advancing them, not by
  // how long the machine took.
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  try {
    // A hundred users in groups of ten, all online, who connected together: every 15 s each
    // client renews its state (same state, next clock), all in the same moment.
    const users = ids(100);
    const { storage } = await storageWith(Array.from({ length: 10 }, (_, i) => users.slice(i * 10, i * 10 + 10)));
    const documents = new Map(users.map((userId) => [presenceDoc(userId), presence(userId)]));
    const { storage: counting, calls } = counted(storage);
    const spreadMs = 4_000;
    const relay = new PresenceRelay(counting, () => documents, () => {}, spreadMs);
    const updates = new Map(users.map((userId) => [userId, 0]));
    for (const userId of users) documents.get(presenceDoc(userId))!.awareness.on('update', (_: unknown, origin: unknown) => origin !== 'local' && updates.set(userId, updates.get(userId)! + 1));
    const sendAll = () =>
      Promise.all(
        users.map((userId) => {
          const document = documents.get(presenceDoc(userId))!;
          document.awareness.setLocalState(document.awareness.getLocalState());
          return relay.onAwarenessUpdate({ documentName: presenceDoc(userId), document, added: [], updated: [document.awareness.clientID], removed: [], transactionOrigin: null } as unknown as onAwarenessUpdatePayload);
        }),
      );
    /** The clocks of the states relayed into a user's presence document. */
    const relayedClocks = (userId: UserId) => {
      const awareness = documents.get(presenceDoc(userId))!.awareness;
      return [...awareness.meta].filter(([id]) => id !== awareness.clientID).map(([, meta]) => meta.clock);
    };
    const sent = sendAll();
    await vi.advanceTimersByTimeAsync(25);
    await sent;
    // Each user hears of their nine contacts' states in one update (one frame to their devices), not nine.
    expect(new Set(updates.values())).toEqual(new Set([1]));
    for (const userId of users) expect(shown(documents.get(presenceDoc(userId))!, userId).size).toBe(9);
    expect(calls.get('listContacts')).toBe(100);

    // 15 s later, the same states again: renewals. Each user gets their contacts' renewals in
    // one update, at a moment of their own within spreadMs, not all at once.
    vi.setSystemTime(Date.now() + 15_000);
    await sendAll();
    const renewed = () => [...updates.values()].filter((n) => n === 2).length;
    expect(renewed()).toBe(0);
    await vi.advanceTimersByTimeAsync(spreadMs / 2);
    // About half of them by now (all or none: a chance of 2^-99 each).
    expect(renewed()).toBeGreaterThan(0);
    expect(renewed()).toBeLessThan(users.length);
    await vi.advanceTimersByTimeAsync(spreadMs / 2);
    expect(new Set(updates.values())).toEqual(new Set([2]));
    for (const userId of users) expect(new Set(relayedClocks(userId))).toEqual(new Set([2]));
    expect(calls.get('listContacts')).toBe(100);
    await storage.close();
  } finally {
    vi.useRealTimers();
  }
});

it('relays a change at once, taking the renewals waiting for that contact along in the same update', async () => {
  const [ada, bob] = ids(2) as [UserId, UserId];
  const { storage, conversations } = await storageWith([[ada, bob]]);
  const [adaBob] = conversations as [ConversationId];
  const documents = new Map<string, Document>([
    [presenceDoc(ada), presence(ada)],
    [presenceDoc(bob), presence(bob)],
  ]);
  // Renewals would wait a minute: only the change can deliver them within this test.
  const relay = new PresenceRelay(storage, () => documents, () => {}, 60_000);
  const adaSees = documents.get(presenceDoc(ada))!;
  let updates = 0;
  adaSees.awareness.on('update', (_: unknown, origin: unknown) => origin !== 'local' && (updates += 1));
  const bobSends = async (typing: ConversationId | null) => {
    const document = documents.get(presenceDoc(bob))!;
    document.awareness.setLocalState({ user: { id: bob }, typing });
    await relay.onAwarenessUpdate({ documentName: presenceDoc(bob), document, added: [], updated: [document.awareness.clientID], removed: [], transactionOrigin: null } as unknown as onAwarenessUpdatePayload);
  };
  await bobSends(null);
  expect(updates).toBe(1);
  await bobSends(null); // a renewal: it waits
  expect(updates).toBe(1);
  await bobSends(adaBob); // a change: at once, with the renewal
  expect(updates).toBe(2);
  expect(shown(adaSees, ada).get(bob)).toBe(adaBob);
  const relayed = [...adaSees.awareness.meta].filter(([id]) => id !== adaSees.awareness.clientID).map(([, meta]) => meta.clock);
  expect(relayed).toEqual([3]);
  await storage.close();
});
