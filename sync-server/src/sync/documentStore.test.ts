// A change made while a document loads reaches it: Hocuspocus lists a document only once it has
// loaded, so a role changed between the load's reading of the tables and that moment was lost
// (a member who became admin kept seeing "member" until something else changed).
import * as Y from 'yjs';
import { Hocuspocus } from '@hocuspocus/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { InboxRoots, ServerRoots, type ConversationId, type MemberEntry, type UserId } from '@outpost/shared-schema';
import { SqliteStorage } from '@outpost/storage';
import { LocalCoordinator } from '../coordination/Coordinator.ts';
import { createLogger } from '../log.ts';
import { commitRequests, type CommitRequest } from './commitRequest.ts';
import { Committer } from './committer.ts';
import { DocumentStore } from './documentStore.ts';
import { LoadedDocuments } from './documents.ts';
import { ServerDocuments } from './serverDocuments.ts';
import { WritePath } from './writePath.ts';

const log = createLogger('error');
const opened: SqliteStorage[] = [];
afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.close();
});

/** A node's document pieces over an in-memory SQLite, with commits that can be held at a gate. */
function node(storage: SqliteStorage) {
  let gate: { name: string; reached: () => void; open: Promise<void> } | null = null;
  const committer = new Committer(async (requests: readonly CommitRequest[], now) => {
    const held = gate;
    if (held && requests.some((request) => request.doc === held.name)) {
      gate = null;
      held.reached();
      await held.open;
    }
    return commitRequests(storage.log, requests, now);
  }, log);
  const documents = new LoadedDocuments(storage.log, log);
  const listed = new Map<string, Y.Doc>();
  const late: { store?: DocumentStore } = {};
  const open = { get: (name: string) => listed.get(name) ?? late.store?.loading(name) };
  const writePath = new WritePath({
    documents,
    committer,
    log,
    segmentSize: 100,
    hooks: { admitMessages: async () => {}, mayPost: async () => true, numberedIn: async () => null, committed: () => {}, segmentApplied: () => {}, readsApplied: () => {} },
  });
  const serverDocuments = new ServerDocuments({ storage, writePath, open, segmentSize: 100, log });
  const store = (late.store = new DocumentStore({ log: storage.log, logger: log, documents, serverDocuments, coordinator: new LocalCoordinator(), writePath }));
  return {
    serverDocuments,
    store,
    /** Loads `name` as Hocuspocus does: the hooks, then it is listed. */
    async load(name: string): Promise<Y.Doc> {
      const doc = new Y.Doc();
      await store.onLoadDocument({ documentName: name, document: doc } as never);
      await store.afterLoadDocument({ documentName: name });
      listed.set(name, doc);
      return doc;
    },
    /** The next commit to `name` waits until the returned `open()` is called. */
    holdCommit(name: string): { reached: Promise<void>; open: () => void } {
      let reached = () => {};
      let open = () => {};
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      gate = { name, reached, open: new Promise<void>((resolve) => (open = resolve)) };
      return { reached: reachedPromise, open };
    },
    close: () => writePath.close(),
  };
}

/** A migrated in-memory SQLite holding these users (name → id). */
async function storageWith(users: Record<string, UserId>): Promise<SqliteStorage> {
  const storage = new SqliteStorage(':memory:');
  opened.push(storage);
  await storage.migrate();
  for (const [name, id] of Object.entries(users)) await storage.accounts.createUser({ id, username: name, displayName: name, passwordHash: 'x', createdAt: 1 });
  return storage;
}

describe('a document that is loading', () => {
  it('receives a role changed while its load reconciles it with the tables', async () => {
    const ada = 'a0000000-0000-4000-8000-000000000001' as UserId;
    const cyd = 'c0000000-0000-4000-8000-000000000003' as UserId;
    const storage = await storageWith({ ada, cyd });
    const group = '0a000000-0000-4000-8000-000000000000' as ConversationId;
    await storage.conversations.createConversation({ id: group, kind: 'group', title: 'crew', createdBy: ada, createdAt: 1, members: [{ userId: ada, role: 'owner' }, { userId: cyd, role: 'member' }] });
    const { serverDocuments, load, holdCommit, close } = node(storage);
    const name = `conv:${group}:server`;

    // The load reads the tables (cyd: member) and its write is held before it commits…
    const held = holdCommit(name);
    const loading = load(name);
    await held.reached;
    // …when ada makes cyd an admin; the node tells the open documents, as the API does.
    await storage.conversations.setMemberRole(group, cyd, 'admin');
    const told = serverDocuments.conversationChanged(group, [cyd]);
    held.open();
    const doc = await loading;
    await told;

    const members = doc.getMap<MemberEntry>(ServerRoots.members);
    expect(members.get(cyd)?.role).toBe('admin');
    close();
  });

  it('keeps a group created while its inbox reconciles: an older read of the tables never writes after a newer one', async () => {
    const ada = 'a0000000-0000-4000-8000-000000000001' as UserId;
    const bob = 'b0000000-0000-4000-8000-000000000002' as UserId;
    const storage = await storageWith({ ada, bob });
    // The load's read of bob's conversations is answered late, with what the tables held when it
    // was asked (a slow database): no group yet.
    const list = storage.conversations.listMemberships.bind(storage.conversations);
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let read = () => {};
    const readDone = new Promise<void>((resolve) => (read = resolve));
    let first = true;
    storage.conversations.listMemberships = async (userId) => {
      const rows = await list(userId);
      if (first) {
        first = false;
        read();
        await released;
      }
      return rows;
    };
    const { serverDocuments, load, close } = node(storage);

    const loading = load(`inbox:${bob}`);
    await readDone;
    // Meanwhile ada creates a group with bob; the node tells the open documents, as the API does.
    const group = '0b000000-0000-4000-8000-000000000000' as ConversationId;
    await storage.conversations.createConversation({ id: group, kind: 'group', title: 'crew', createdBy: ada, createdAt: 2, members: [{ userId: ada, role: 'owner' }, { userId: bob, role: 'member' }] });
    const told = serverDocuments.conversationChanged(group, [bob]);
    await new Promise((resolve) => setTimeout(resolve, 20)); // (before the fix, the newer read was written here)
    release();
    const doc = await loading;
    await told;

    expect(doc.getMap(InboxRoots.conversations).has(group)).toBe(true);
    close();
  });
});

describe('a document Hocuspocus creates', () => {
  it('is named by its document: no random UUID is drawn for it', async () => {
    const storage = await storageWith({});
    const { store, close } = node(storage);
    const hocuspocus = new Hocuspocus({ quiet: true, extensions: [store] });
    const name = `user:${'u'.repeat(10)}`;
    const connection = await hocuspocus.openDirectConnection(name);
    expect(connection.document?.guid).toBe(name);
    await connection.disconnect();
    close();
  });
});

describe('presence documents', () => {
  it('time out a silent client in one sweep for all of them, with no interval of their own', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const storage = await storageWith({});
      const { store, close } = node(storage);
      const hocuspocus = new Hocuspocus({ quiet: true, extensions: [store] });
      const timersBefore = vi.getTimerCount();
      const names = ['a', 'b', 'c'].map((c) => `presence:${c.repeat(8)}-0000-4000-8000-000000000000`);
      const connections = await Promise.all(names.map((name) => hocuspocus.openDirectConnection(name)));
      const documents = connections.map((connection) => connection.document!);
      // Each document's own Awareness interval is stopped; one interval sweeps them all.
      expect(vi.getTimerCount() - timersBefore).toBe(1);
      const client = new Awareness(new Y.Doc());
      client.setLocalState({ typing: null });
      for (const document of documents) applyAwarenessUpdate(document.awareness, encodeAwarenessUpdate(client, [client.clientID]), null);
      const held = () => documents.map((document) => document.awareness.getStates().has(client.clientID));
      // Silent for 30 s on two documents (y-protocols reads its own clock, so the last word is
      // moved back rather than the clock forward), just short of it on the third.
      for (const [i, document] of documents.entries()) document.awareness.meta.get(client.clientID)!.lastUpdated -= i === 0 ? 25_000 : 30_000;
      expect(held()).toEqual([true, true, true]);
      vi.advanceTimersByTime(3_000);
      expect(held()).toEqual([true, false, false]);
      documents[0]!.awareness.meta.get(client.clientID)!.lastUpdated -= 5_000;
      vi.advanceTimersByTime(3_000);
      expect(held()).toEqual([false, false, false]);
      client.destroy();
      // Unloaded, they leave the sweep, and the sweep stops with the last.
      await Promise.all(connections.map((connection) => connection.disconnect()));
      while (hocuspocus.getDocumentsCount() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(vi.getTimerCount()).toBe(timersBefore);
      close();
    } finally {
      vi.useRealTimers();
    }
  });
});
