// The presence relay against real SQLite: who is shown online and typing to whom, and what it asks
// storage for. Opening presence in a 300-member group asked storage once per conversation of each
// online contact (half a second of the event loop with 300 contacts online and cold caches).
import { expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { Awareness, removeAwarenessStates } from 'y-protocols/awareness';
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

it('relays a burst of states as one awareness update per contact; renewals send nothing, keep the copies alive while they come, and read no audience again', async () => {
  // Timers are the test's: y-protocols' awareness check (every 3 s) runs when they are advanced.
  // Its clock is Date.now as lib0 found it, which fake timers cannot move: time passes for the
  // relayed copies by making them older (age).
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  try {
    // A hundred users in groups of ten, all online, who connected together: every 15 s each
    // client renews its state (same state, next clock), all in the same moment.
    const users = ids(100);
    const { storage } = await storageWith(Array.from({ length: 10 }, (_, i) => users.slice(i * 10, i * 10 + 10)));
    const documents = new Map(users.map((userId) => [presenceDoc(userId), presence(userId)]));
    const { storage: counting, calls } = counted(storage);
    const relay = new PresenceRelay(counting, () => documents);
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
    const sent = sendAll();
    await vi.advanceTimersByTimeAsync(25);
    await sent;
    // Each user hears of their nine contacts' states in one update (one frame to their devices), not nine.
    expect(new Set(updates.values())).toEqual(new Set([1]));
    for (const userId of users) expect(shown(documents.get(presenceDoc(userId))!, userId).size).toBe(9);
    expect(calls.get('listContacts')).toBe(100);

    /** Makes every relayed copy `ms` older, as if that long had passed since it was last updated. */
    const age = (ms: number) => {
      for (const { awareness } of documents.values()) for (const [id, meta] of awareness.meta) if (id !== awareness.clientID) meta.lastUpdated -= ms;
    };

    // Renewals 25 s on: nothing reaches anyone, and 25 s later, 50 s after the copies were
    // delivered (y-protocols drops a state 30 s after its last update), every copy is still there.
    age(25_000);
    await sendAll();
    age(25_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(new Set(updates.values())).toEqual(new Set([1]));
    for (const userId of users) expect(shown(documents.get(presenceDoc(userId))!, userId).size).toBe(9);
    expect(calls.get('listContacts')).toBe(100);

    // The renewals stop (their node went away without a word): the copies go 30 s after the last one.
    age(10_000);
    await vi.advanceTimersByTimeAsync(3_000);
    for (const userId of users) expect(shown(documents.get(presenceDoc(userId))!, userId).size).toBe(0);
    await storage.close();
  } finally {
    vi.useRealTimers();
  }
});

it('relays a change at once and a renewal not at all, and gives a renewed state again to a contact whose copy was lost', async () => {
  const [ada, bob] = ids(2) as [UserId, UserId];
  const { storage, conversations } = await storageWith([[ada, bob]]);
  const [adaBob] = conversations as [ConversationId];
  const documents = new Map<string, Document>([
    [presenceDoc(ada), presence(ada)],
    [presenceDoc(bob), presence(bob)],
  ]);
  const relay = new PresenceRelay(storage, () => documents);
  let adaSees = documents.get(presenceDoc(ada))!;
  let updates = 0;
  adaSees.awareness.on('update', (_: unknown, origin: unknown) => origin !== 'local' && (updates += 1));
  const bobSends = async (typing: ConversationId | null) => {
    const document = documents.get(presenceDoc(bob))!;
    document.awareness.setLocalState({ user: { id: bob }, typing });
    await relay.onAwarenessUpdate({ documentName: presenceDoc(bob), document, added: [], updated: [document.awareness.clientID], removed: [], transactionOrigin: null } as unknown as onAwarenessUpdatePayload);
  };
  const relayedClocks = () => [...adaSees.awareness.meta].filter(([id]) => id !== adaSees.awareness.clientID).map(([, meta]) => meta.clock);
  await bobSends(null);
  expect(updates).toBe(1);
  await bobSends(null); // a renewal: nothing goes
  expect(updates).toBe(1);
  await bobSends(adaBob); // a change: at once
  expect(updates).toBe(2);
  expect(shown(adaSees, ada).get(bob)).toBe(adaBob);
  expect(relayedClocks()).toEqual([2]);

  // Ada's copy timed out while Bob's renewals did not reach this node (his node's notices were
  // lost): a state at the clock it holds would be ignored. His next renewal gives it back, above that.
  removeAwarenessStates(adaSees.awareness, [...adaSees.awareness.getStates().keys()].filter((id) => id !== adaSees.awareness.clientID), 'timeout');
  expect(shown(adaSees, ada).get(bob)).toBeUndefined();
  await bobSends(adaBob);
  expect(shown(adaSees, ada).get(bob)).toBe(adaBob);
  expect(relayedClocks()).toEqual([3]);

  // Ada's presence document was unloaded and opened again empty, without the relay being told:
  // Bob's next renewal gives it his state.
  adaSees = presence(ada);
  documents.set(presenceDoc(ada), adaSees);
  await bobSends(adaBob);
  expect(shown(adaSees, ada).get(bob)).toBe(adaBob);
  await storage.close();
});
