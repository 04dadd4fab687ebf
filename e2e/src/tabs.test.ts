// Several tabs of one signed-in device, at random: they share the device's IndexedDB replica and
// its session (refresh tokens rotate; a token used twice signs the device out), each has its own
// socket, and they pass their changes to each other over a BroadcastChannel. People write,
// edit, react and mark read in any tab; a tab goes offline and back, is closed (at once, or once
// its writes are stored) and opened again; another person writes meanwhile. In the end every
// tab and the other person see the same history, numbered 1..N as the server numbered it,
// nothing waits in any tab's outbox, nothing was refused, and nothing threw unhandled.
//
// The real SDK in Node (fake-indexeddb; BroadcastChannel works within one process, as between
// tabs) against a real node on SQLite and on Postgres. SEED=n replays one seed.
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDbReplica, OutpostClient, replicaName, type HistoryMode, type IndexedDbFactory, type SessionStore } from '@outpost/client';
import type { MessageId, Session } from '@outpost/shared-schema';
import { backends, catchUnhandled, freshDatabase, random, refusalLog, seeds, startNode, teardown, until, type Backend } from './harness.ts';
import { history, numberedOneToN } from './history.ts';
import { browserProfile } from './offlineReplica.ts';

afterAll(teardown);

const FILE = 'e2e/src/tabs.test.ts';
const PASSWORD = 'correct horse battery';
const EMOJI = ['👍', '🎉'];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** A seed's failure, with how to replay it. */
function replayable(seed: number, backend: Backend, error: unknown): Error {
  return new Error(`seed ${seed} on ${backend} failed; replay with: SEED=${seed} npx vitest run ${FILE}\n${(error as Error).message}`, { cause: error });
}

/**
 * A node, a person signed up whose device's tabs share one session (as the web app shares it, in
 * localStorage: `session()` is its latest, refresh tokens rotating), and another person.
 */
async function deviceAndOther(backend: Backend, name: string, segmentSize: number, refusals: string[]) {
  const server = await startNode({ ...(await freshDatabase(backend)), segmentSize, log: refusalLog(refusals) });
  const url = server.url;
  let stored: Session | null = null;
  const sessionStore: SessionStore = { load: () => stored, save: (session) => void (stored = session) };
  const suffix = `${name}x${process.pid}`;
  const signedUp = await OutpostClient.register({ url, sessionStore }, { username: `${suffix}a`.slice(0, 32), password: PASSWORD });
  signedUp.close();
  const other = await OutpostClient.register({ url }, { username: `${suffix}b`.slice(0, 32), password: PASSWORD });
  return { server, url, sessionStore, session: () => stored ?? signedUp.session, userId: signedUp.user.id, other };
}

interface Tab {
  name: string;
  replica: IndexedDbReplica | null;
  client: OutpostClient | null;
  online: boolean;
}

describe.each(backends)('tabs of one device on %s', (backend) => {
  it.each(seeds([1, 2, 3]))('seed %i: tabs opened, closed and offline at random converge with everyone, nothing refused', async (seed) => {
    const rng = random(seed);
    const historyMode: HistoryMode = seed % 2 === 0 ? 'all' : 'replica';
    const refusals: string[] = [];
    const { unhandled, stop: stopCatching } = catchUnhandled();
    const profile: IndexedDbFactory = browserProfile();
    const tabs: Tab[] = [];
    let bob: OutpostClient | null = null;
    try {
      const { server, url, sessionStore, session, userId, other } = await deviceAndOther(backend, `tb${seed}`, rng.pick([3, 5, 1000]), refusals);
      bob = other;
      const open = async (tab: Tab) => {
        tab.replica = await IndexedDbReplica.open({ userId, factory: profile, compactAfter: rng.pick([2, 8, 64]) });
        tab.client = await OutpostClient.resume({ url, sessionStore, history: historyMode, persistence: tab.replica }, session());
        if (!tab.online) tab.client.disconnect();
        return tab.client;
      };
      const close = (tab: Tab) => {
        tab.client?.close();
        tab.replica?.close();
        tab.client = null;
        tab.replica = null;
      };
      for (let i = 0; i < 2 + rng.int(2); i++) {
        const tab: Tab = { name: `tab${i + 1}`, replica: null, client: null, online: true };
        tabs.push(tab);
        await open(tab);
      }
      const first = tabs[0]?.client as OutpostClient;
      const id = await first.createGroup('relay crew', [bob.user.id]);
      await until('Bob and every tab have the group', () => bob?.conversation(id).meta().get()?.kind === 'group' && tabs.every((t) => t.client?.conversation(id).meta().get()?.kind === 'group'));

      let closes = 0;
      /** One thing done in a tab, with the app's guards. */
      const act = (client: OutpostClient, step: number) => {
        const chat = client.conversation(id);
        const me = client.user.id;
        const visible = chat.messages().get();
        const roll = rng.next();
        if (roll < 0.4 || visible.length === 0) {
          const replyTo = visible.length > 0 && rng.next() < 0.2 ? rng.pick(visible).id : undefined;
          chat.send(`ada ${step} r${rng.int(1000)}`, replyTo ? { replyTo } : {});
        } else if (roll < 0.6) {
          const mine = visible.filter((m) => m.author === me && !m.deleted);
          if (mine.length > 0) chat.edit(rng.pick(mine).id as MessageId, `edited ${step}`);
        } else if (roll < 0.66) {
          const mine = visible.filter((m) => m.author === me && !m.deleted);
          if (mine.length > 0) chat.delete(rng.pick(mine).id as MessageId);
        } else if (roll < 0.88) {
          const target = rng.pick(visible);
          const emoji = rng.pick(EMOJI);
          if (target.reactions[emoji]?.includes(me as never)) chat.unreact(target.id, emoji);
          else if (!target.deleted) chat.react(target.id, emoji);
        } else {
          chat.markRead();
        }
      };

      for (let step = 0; step < 30 + rng.int(20); step++) {
        const tab = rng.pick(tabs);
        const roll = rng.next();
        if (!tab.client) {
          await open(tab);
        } else if (roll < 0.12) {
          // Closed: at once (the tab's writes may still be on their way to IndexedDB) or gracefully.
          if (rng.next() < 0.5) await tab.client.stored();
          close(tab);
          closes += 1;
          if (rng.next() < 0.5) await open(tab);
        } else if (roll < 0.2) {
          tab.online = !tab.online;
          if (tab.online) tab.client.connect();
          else tab.client.disconnect();
        } else {
          for (let i = 1 + rng.int(3); i > 0; i--) act(tab.client, step * 10 + i);
        }
        if (rng.next() < 0.2) bob.conversation(id).send(`bob ${step}`);
        if (rng.next() < 0.5) await pause(rng.int(40));
      }

      // Every tab open and online; then everyone agrees.
      for (const tab of tabs) {
        tab.online = true;
        if (!tab.client) await open(tab);
        else tab.client.connect();
      }
      const clients = () => [...tabs.map((t) => t.client as OutpostClient), bob as OutpostClient];
      const describeState = () => ({
        refusals,
        unhandled,
        tabs: tabs.map((t) => ({ name: t.name, status: t.client?.status().get(), unsynced: t.client?.hasUnsyncedChanges, waiting: t.client?.outbox().get().map((op) => `${op.kind} ${op.docName} ${op.tab}`), failures: t.client?.failures() })),
        histories: clients().map((c) => history(c.conversation(id)).map((l) => `${l.seq}:${l.body}:${l.deleted ? 'x' : ''}:${l.reactions}`)),
      });
      await until('every tab has sent everything', () => tabs.every((t) => !t.client?.hasUnsyncedChanges && t.client?.outbox().get().length === 0), describeState, 60_000);
      for (const client of clients()) while (await client.conversation(id).loadOlder());
      const numbered = async () => (await server.storage.conversations.getConversation(id))?.lastSeq;
      await until(
        'every tab and Bob show the same history, numbered 1..N, as the server numbered it',
        async () => {
          const [a, ...rest] = clients().map((c) => history(c.conversation(id)));
          return a !== undefined && numberedOneToN(a) && rest.every((h) => JSON.stringify(h) === JSON.stringify(a)) && a.length === (await numbered());
        },
        async () => ({ ...describeState(), lastSeq: await numbered() }),
        60_000,
      );
      console.info(`seed ${seed} on ${backend} (history '${historyMode}'): ${tabs.length} tabs, ${closes} closes, ${history(bob.conversation(id)).length} messages`);
      expect(refusals).toEqual([]);
      expect(clients().flatMap((c) => c.failures())).toEqual([]);
      // Every tab is still signed in: no refresh token was used twice.
      expect(tabs.map((t) => t.client?.status().get())).toEqual(tabs.map(() => 'connected'));
      await pause(300);
      expect(unhandled).toEqual([]);
    } catch (error) {
      throw replayable(seed, backend, error);
    } finally {
      stopCatching();
      for (const tab of tabs) {
        tab.client?.close();
        tab.replica?.close();
      }
      bob?.close();
    }
  }, 180_000);

  it.each(seeds([1, 2]))('seed %i: a tab signs out while the others work: they are told, and nothing of the device stays', async (seed) => {
    const rng = random(seed);
    const refusals: string[] = [];
    const { unhandled, stop: stopCatching } = catchUnhandled();
    const profile: IndexedDbFactory = browserProfile();
    const tabs: { replica: IndexedDbReplica; client: OutpostClient; signedOut: boolean }[] = [];
    let bob: OutpostClient | null = null;
    try {
      const { server, url, sessionStore, session, userId, other } = await deviceAndOther(backend, `tl${seed}`, rng.pick([3, 1000]), refusals);
      bob = other;
      for (let i = 0; i < 3; i++) {
        const replica = await IndexedDbReplica.open({ userId, factory: profile });
        const client = await OutpostClient.resume({ url, sessionStore, history: rng.pick(['all', 'replica'] as const), persistence: replica }, session());
        const tab = { replica, client, signedOut: false };
        client.onSignedOut(() => (tab.signedOut = true));
        tabs.push(tab);
      }
      const id = await (tabs[0] as (typeof tabs)[number]).client.createGroup('last shift', [bob.user.id]);
      await until('every tab has the group', () => tabs.every((t) => t.client.conversation(id).meta().get()?.kind === 'group'));
      const work = async (steps: number, from: typeof tabs) => {
        for (let step = 0; step < steps; step++) {
          const chat = rng.pick(from).client.conversation(id);
          const mine = chat.messages().get().filter((m) => m.author === userId && !m.deleted);
          const roll = mine.length > 0 ? rng.next() : 1;
          if (roll < 0.3) chat.edit(rng.pick(mine).id as MessageId, `edited ${step}`);
          else if (roll < 0.5) chat.react(rng.pick(mine).id as MessageId, '👍');
          else chat.send(`ada ${step}`);
          if (rng.next() < 0.2) bob?.conversation(id).send(`bob ${step}`);
          if (rng.next() < 0.5) await pause(rng.int(30));
        }
      };
      await work(5 + rng.int(10), tabs);
      // One tab signs out (the session revoked, the replica deleted) while the others keep writing.
      const [leaving, ...staying] = tabs as [(typeof tabs)[number], ...typeof tabs];
      const logout = leaving.client.logout();
      await work(5 + rng.int(10), staying);
      await logout;
      await until('every other tab is told the device signed out', () => staying.every((t) => t.signedOut), () => staying.map((t) => ({ signedOut: t.signedOut, status: t.client.status().get(), failures: t.client.failures() })), 30_000);
      // What a signed-out tab does (the web app: close, forget): nothing of the device stays.
      for (const tab of staying) {
        await tab.client.logout({ revoke: false });
        tab.replica.close();
      }
      await pause(300);
      const databases = (await profile.indexedDB.databases()).map((d) => d.name);
      expect(databases).not.toContain(replicaName(userId));
      // Bob's side is whole: what reached the server is numbered 1..N and he sees all of it.
      const numbered = async () => (await server.storage.conversations.getConversation(id))?.lastSeq;
      await until('Bob sees what the server numbered, 1..N', async () => {
        const lines = history(bob!.conversation(id));
        return numberedOneToN(lines) && lines.length === (await numbered());
      });
      expect(refusals.filter((r) => !r.includes('signedOut') && !r.includes('unauthorized'))).toEqual([]);
      expect(unhandled).toEqual([]);
    } catch (error) {
      throw replayable(seed, backend, error);
    } finally {
      stopCatching();
      for (const tab of tabs) {
        tab.client.close();
        tab.replica.close();
      }
      bob?.close();
    }
  }, 120_000);
});
