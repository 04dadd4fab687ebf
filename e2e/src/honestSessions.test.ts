// Honest work is always accepted, end to end (issue 8, "what must hold" 1): the real SDK in
// Node against a real node on SQLite and on Postgres. Three or four people in a group (owner,
// admins, members), some with a second device; they send, reply, edit, delete, react, unreact
// and mark read at random, go offline and online, and restart their app (close() and
// OutpostClient.resume() over the same in-memory replica; a device without a replica starts
// empty). Half the seeds keep that replica in IndexedDB (fake-indexeddb: the SDK's own replica, its
// compaction after a few updates, its outbox and saved search index, reopened by each restart),
// and half run every device with history 'replica', as the web app does (older segments leave
// memory; the check loads them all back first). Every text a message ever had carries a word of
// its own, and in the end every device's search, and the server's, finds each message by the
// words of its current text and by no word of an earlier one (edited or deleted). Nothing may be refused — the node's log of refusals stays empty and so does every
// client's failures() — and every device of every member ends with the same history, numbered
// 1..N. The in-process generator (sync-server/src/sync/honestSessions.test.ts) covers thousands
// of sessions; this one shows the same with the provider, the socket and storage for real.
//
// SEED=n replays one seed (the failure message prints the command).
import { afterAll, describe, expect, it } from 'vitest';
import { IDBObjectStore } from 'fake-indexeddb';
import { IndexedDbReplica, OutpostClient, replicaName, type Conversation, type HistoryMode, type IndexedDbFactory, type PendingOperation, type ReplicaPersistence } from '@outpost/client';
import type { MessageId, Session } from '@outpost/shared-schema';
import { backends, freshDatabase, random, refusalLog, seeds, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN, type Line } from './history.ts';
import { pdf } from './fileFixtures.ts';
import { browserProfile } from './offlineReplica.ts';

afterAll(teardown);

const FILE = 'e2e/src/honestSessions.test.ts';
const PASSWORD = 'correct horse battery';
const EMOJI = ['👍', '🎉', '❤️'];

/** What IndexedDB keeps for one device, kept in memory so a restarted client finds it again. */
class MemoryReplica implements ReplicaPersistence {
  readonly #updates = new Map<string, Uint8Array[]>();
  readonly #operations = new Map<string, PendingOperation>();
  readonly #values = new Map<string, unknown>();
  async load(docName: string): Promise<Uint8Array[]> {
    return [...(this.#updates.get(docName) ?? [])];
  }
  async append(docName: string, update: Uint8Array, operation?: PendingOperation): Promise<void> {
    const list = this.#updates.get(docName) ?? [];
    list.push(update);
    this.#updates.set(docName, list);
    if (operation) this.#operations.set(operation.key, operation);
  }
  async pendingOperations(): Promise<PendingOperation[]> {
    return [...this.#operations.values()];
  }
  async settle(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#operations.delete(key);
  }
  async documents(): Promise<string[]> {
    return [...this.#updates.keys()];
  }
  async recall(key: string): Promise<unknown> {
    return this.#values.get(key);
  }
  async remember(key: string, value: unknown): Promise<void> {
    this.#values.set(key, value);
  }
  async replace(docName: string, state: Uint8Array): Promise<void> {
    this.#updates.set(docName, [state]);
  }
  async clear(): Promise<void> {
    this.#updates.clear();
    this.#operations.clear();
    this.#values.clear();
  }
}

interface Device {
  name: string;
  role: 'owner' | 'admin' | 'member';
  /** The replica a restart finds again; null for a device that keeps nothing (memory only). */
  replica: MemoryReplica | StoredReplica | null;
  client: OutpostClient;
  online: boolean;
}

/** A replica in IndexedDB: the profile outlives the app, each run opens its own connection. */
class StoredReplica {
  readonly profile: IndexedDbFactory = browserProfile();
  readonly userId: string;
  readonly compactAfter: number;
  current: IndexedDbReplica | null = null;
  constructor(userId: string, compactAfter: number) {
    this.userId = userId;
    this.compactAfter = compactAfter;
  }
  async open(): Promise<IndexedDbReplica> {
    this.current?.close();
    this.current = await IndexedDbReplica.open({ userId: this.userId, factory: this.profile, compactAfter: this.compactAfter });
    return this.current;
  }
  close(): void {
    this.current?.close();
    this.current = null;
  }
}

/** The persistence a (re)started app gets on `device`. */
async function persistenceOf(device: Pick<Device, 'replica'>): Promise<ReplicaPersistence | undefined> {
  if (device.replica instanceof StoredReplica) return device.replica.open();
  return device.replica ?? undefined;
}

/** Replicas (by database name) whose disk is full: IndexedDB refuses every write to them. */
const fullDisks = new Set<string>();
for (const method of ['add', 'put'] as const) {
  const write = IDBObjectStore.prototype[method] as (...args: unknown[]) => unknown;
  (IDBObjectStore.prototype as unknown as Record<string, unknown>)[method] = function (this: IDBObjectStore, ...args: unknown[]) {
    if (fullDisks.has(this.transaction.db.name)) throw new DOMException('the disk is full', 'QuotaExceededError');
    return write.apply(this, args);
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends)('honest sessions end to end on %s', (backend) => {
  // Seed 8 found (on Postgres, depending on timing) an update frame that changed nothing and was
  // never acknowledged: the provider stayed "unsynced" for good. Seed 75 (on SQLite, one run in
  // two or three) a reaction made offline just before a restart that never left the replica.
  it.each(seeds([1, 2, 3, 4, 5, 8, 75]))('seed %i: nothing refused, every device converges on 1..N', async (seed) => {
    const rng = random(seed);
    // How the devices keep things, drawn apart so every seed's actions stay what they were.
    const setup = random(seed * 7919 + 17);
    const stored = setup.next() < 0.5;
    const compactAfter = setup.pick([2, 8, 64]);
    const historyMode: HistoryMode = setup.pick(['all', 'replica'] as const);
    const refusals: string[] = [];
    const devices: Device[] = [];
    try {
      // Even seeds send every sync answer over 256 bytes in pieces (a slow link's way).
      const pieces = seed % 2 === 0 ? { env: { SYNC_PIECE_BYTES: '256' } } : {};
      const server = await startNode({ ...(await freshDatabase(backend)), segmentSize: rng.pick([3, 5, 1000]), log: refusalLog(refusals), ...pieces });
      const url = server.url;
      const people = 3 + rng.int(2);
      for (let i = 0; i < people; i++) {
        // One device per person keeps a replica (one replica per person: in one process the
        // SDK's tab relay would otherwise join two devices as if they were tabs).
        const username = `hs${seed}p${i}x${process.pid}`.slice(0, 32);
        let replica: MemoryReplica | StoredReplica;
        let client: OutpostClient;
        if (stored) {
          // IndexedDB is named by the user: signed up first, then started on it, as the web app does.
          const signedUp = await OutpostClient.register({ url, history: historyMode }, { username, password: PASSWORD });
          signedUp.close();
          replica = new StoredReplica(signedUp.user.id, compactAfter);
          client = await OutpostClient.resume({ url, history: historyMode, persistence: await replica.open() }, signedUp.session);
        } else {
          replica = new MemoryReplica();
          client = await OutpostClient.register({ url, history: historyMode, persistence: replica }, { username, password: PASSWORD });
        }
        devices.push({ name: `${username}/1`, role: i === 0 ? 'owner' : 'member', replica, client, online: true });
        if (rng.next() < 0.4) {
          const second = await OutpostClient.login({ url, history: historyMode }, { username, password: PASSWORD });
          devices.push({ name: `${username}/2`, role: i === 0 ? 'owner' : 'member', replica: null, client: second, online: true });
        }
      }
      const owner = devices[0] as Device;
      const others = [...new Set(devices.map((d) => d.client.user.id))].filter((id) => id !== owner.client.user.id);
      const id = await owner.client.createGroup('field team', others);
      for (const userId of others) {
        if (rng.next() < 0.4) {
          await owner.client.setRole(id, userId, 'admin');
          for (const device of devices) if (device.client.user.id === userId) device.role = 'admin';
        }
      }
      const conversation = (device: Device): Conversation => device.client.conversation(id);
      await until('every device has the group', () => devices.every((d) => conversation(d).meta().get()?.kind === 'group'));

      // A word of its own in every text written (not drawn from the seed: the actions stay the same).
      let words = 0;
      const written = new Map<MessageId, string[]>();
      /** Messages sent with a file, and its name. */
      const attached = new Map<MessageId, string>();
      const wordFor = (message: MessageId | null): string => {
        const word = `zq${String(++words).padStart(5, '0')}x`;
        if (message) written.set(message, [...(written.get(message) ?? []), word]);
        return word;
      };
      let restarts = 0;
      let diskFills = 0;
      let disksFreedOnline = 0;
      const restart = async (device: Device) => {
        restarts += 1;
        const session: Session = device.client.session;
        await device.client.stored();
        device.client.close();
        const persistence = await persistenceOf(device);
        device.client = await OutpostClient.resume({ url, history: historyMode, ...(persistence ? { persistence } : {}) }, session);
        if (!device.online) device.client.disconnect();
        conversation(device);
      };

      /** One thing a person does in the app, with the app's own guards. */
      const act = (device: Device, step: number) => {
        const chat = conversation(device);
        const me = device.client.user.id;
        // The app offers no action on a message whose files are still uploading.
        const visible = chat.messages().get().filter((m) => m.upload === undefined);
        const roll = rng.next();
        if (roll < 0.35 || visible.length === 0) {
          const replyTo = visible.length > 0 && rng.next() < 0.2 ? rng.pick(visible).id : undefined;
          const text = `${device.name} ${step} r${rng.int(1000)}`;
          const word = wordFor(null);
          // Now and then with a file, from a device whose replica keeps it until it is uploaded.
          const file = device.replica instanceof StoredReplica && setup.next() < 0.15 ? `report${attached.size + 1}.pdf` : null;
          const message = chat.send(`${text} ${word}`, { ...(replyTo ? { replyTo } : {}), ...(file ? { attachments: [{ data: pdf, name: file, type: 'application/pdf' }] } : {}) });
          written.set(message, [word]);
          if (file) attached.set(message, file);
        } else if (roll < 0.55) {
          const mine = visible.filter((m) => m.author === me && !m.deleted);
          if (mine.length > 0) {
            const target = rng.pick(mine).id as MessageId;
            for (let i = 1 + rng.int(3); i > 0; i--) chat.edit(target, `edited ${step}.${i} ${wordFor(target)}`);
          }
        } else if (roll < 0.63) {
          // The app offers delete to the author, and to owners and admins.
          const deletable = visible.filter((m) => !m.deleted && (m.author === me || device.role !== 'member'));
          if (deletable.length > 0) chat.delete(rng.pick(deletable).id as MessageId);
        } else if (roll < 0.85) {
          const target = rng.pick(visible);
          for (let i = 1 + rng.int(3); i > 0; i--) {
            const emoji = rng.pick(EMOJI);
            const current = chat.messages().get().find((m) => m.id === target.id);
            if (current?.reactions[emoji]?.includes(me as never)) chat.unreact(target.id, emoji);
            else if (current && !current.deleted) chat.react(target.id, emoji);
          }
        } else {
          chat.markRead(rng.next() < 0.5 ? undefined : 1 + rng.int(Math.max(1, chat.lastSeq())));
        }
      };

      for (let step = 0; step < 25 + rng.int(15); step++) {
        const device = rng.pick(devices);
        if (rng.next() < 0.35) {
          // Work offline for a while, perhaps across a restart of the app, then come back and
          // keep going at once (the reconnect race: changes sent before the sync handshake ends).
          device.online = false;
          device.client.disconnect();
          // Sometimes the device's disk is full meanwhile: what it could not store waits in
          // memory until there is room again (the app retries, or the user taps "try again"),
          // freed before the app restarts (what was never stored goes with the app, as its
          // status says), or only once it is back online and has sent it all.
          const disk = device.replica instanceof StoredReplica && setup.next() < 0.3 ? replicaName(device.client.user.id) : null;
          const freeDisk = async () => {
            if (!disk || !fullDisks.delete(disk)) return;
            await (device.replica as StoredReplica).current?.retryUnsaved();
            diskFills += 1;
          };
          if (disk) fullDisks.add(disk);
          for (let i = 1 + rng.int(4); i > 0; i--) act(device, step);
          const restartsOffline = rng.next() < 0.5;
          if (disk && (restartsOffline || setup.next() < 0.5)) {
            await pause(setup.int(40));
            await freeDisk();
          }
          if (restartsOffline) {
            await restart(device);
            for (let i = rng.int(3); i > 0; i--) act(device, step);
          }
          await pause(rng.int(40));
          device.online = true;
          device.client.connect();
          for (let i = rng.int(3); i > 0; i--) {
            act(device, step);
            await pause(rng.int(10));
          }
          if (disk && fullDisks.has(disk)) {
            await until('the device has sent what its full disk could not keep', () => !device.client.hasUnsyncedChanges, () => device.client.outbox().get(), 30_000);
            await freeDisk();
            disksFreedOnline += 1;
          }
        } else if (rng.next() < 0.1) {
          await restart(device);
        } else {
          act(device, step);
        }
        if (rng.next() < 0.4) await pause(rng.int(25));
      }

      for (const device of devices) {
        device.online = true;
        device.client.connect();
      }
      const histories = () => devices.map((d) => history(conversation(d)));
      const describeState = () => ({
        refusals,
        devices: devices.map((d) => ({
          name: d.name,
          status: d.client.status().get(),
          unsynced: d.client.hasUnsyncedChanges,
          waiting: d.client.outbox().get().map((op) => `${op.kind} ${op.docName}`),
          failures: d.client.failures(),
          head: conversation(d).meta().get()?.head,
          loadedSegments: conversation(d).loadedSegments(),
          subscribedSegments: conversation(d).subscribedSegments(),
        })),
        histories: histories().map((h) => h.map((l: Line) => `${l.seq}:${l.body}:${l.deleted ? 'x' : ''}:${l.reactions}`)),
      });
      // Every frame a provider sent was acknowledged, and nothing waits in an outbox (else the app
      // shows changes waiting for good: seed 75 left a reaction made offline before a restart in
      // a segment the new run never subscribed).
      await until('every device has sent everything', () => devices.every((d) => !d.client.hasUnsyncedChanges && d.client.outbox().get().length === 0), describeState, 60_000);
      // With history 'replica' older segments left memory: bring every one back to compare.
      for (const device of devices) while (await conversation(device).loadOlder());
      // Then every device shows what the server numbered. (Converging first and counting after
      // let a message acknowledged in between reach its author before another device: CI saw
      // 12 lines beside the server's 13.)
      const numbered = async () => (await server.storage.conversations.getConversation(id))?.lastSeq;
      await until(
        'every device of every member shows the same history, numbered 1..N, as many as the server numbered',
        async () => {
          const [first, ...rest] = histories();
          return first !== undefined && numberedOneToN(first) && rest.every((h) => JSON.stringify(h) === JSON.stringify(first)) && first.length === (await numbered());
        },
        async () => ({ ...describeState(), lastSeq: await numbered() }),
        60_000,
      );
      // Search: the words of every message's current text find it on every device; the words of
      // its earlier texts (edited away, or deleted) find it nowhere.
      const searchProblems = async (): Promise<string[]> => {
        const now = new Map((histories()[0] ?? []).map((line) => [line.id, line]));
        const problems: string[] = [];
        for (const device of devices) {
          for (const [message, messageWords] of written) {
            const line = now.get(message);
            for (const word of messageWords) {
              const found = (await device.client.search(word, { conversationId: id, limit: 5 })).some((hit) => hit.messageId === message);
              const current = line !== undefined && !line.deleted && line.body.includes(word);
              if (found !== current) problems.push(`${device.name}: ${word} of ${message} (${line ? JSON.stringify(line.body) : 'not shown'}) ${current ? 'not found' : 'still found'}`);
            }
          }
        }
        return problems;
      };
      await until('every device finds each message by its current words, and by no earlier ones', async () => (await searchProblems()).length === 0, async () => (await searchProblems()).slice(0, 20), 30_000);
      // The server's search (FTS5 on SQLite, full text on Postgres) agrees: the same words, asked
      // by the members in turn (each may run 60 at once), again after a second for those that
      // disagree (the projection and the index follow the log a moment later).
      const askers = [...new Map(devices.map((d) => [d.client.user.id, d])).values()];
      let asked = [...written].flatMap(([message, messageWords]) => messageWords.map((word) => ({ message, word })));
      let serverProblems: string[] = [];
      for (let round = 0; round < 5 && asked.length > 0; round++) {
        if (round > 0) await pause(1_000);
        const now = new Map((histories()[0] ?? []).map((line) => [line.id, line]));
        const disagree: typeof asked = [];
        serverProblems = [];
        for (const [i, { message, word }] of asked.entries()) {
          const asker = askers[i % askers.length] as Device;
          const found = (await asker.client.searchServer(word, { conversationId: id, limit: 5 })).hits.some((hit) => hit.messageId === message);
          const line = now.get(message);
          const current = line !== undefined && !line.deleted && line.body.includes(word);
          if (found === current) continue;
          disagree.push({ message, word });
          serverProblems.push(`server, asked by ${asker.name}: ${word} of ${message} (${line ? JSON.stringify(line.body) : 'not shown'}) ${current ? 'not found' : 'still found'}`);
        }
        asked = disagree;
      }
      expect(serverProblems).toEqual([]);
      // Every message sent with a file shows it on every device, unless it was deleted.
      const missingFiles = () =>
        devices.flatMap((device) =>
          [...attached].filter(([message, file]) => {
            const shown = conversation(device).messages().get().find((m) => m.id === message);
            return !shown?.deleted && !shown?.attachments?.some((a) => a.name === file);
          }).map(([message, file]) => `${device.name}: ${file} of ${message} (${conversation(device).messages().get().some((m) => m.id === message) ? 'shown without it' : 'not shown'})`),
        );
      expect(missingFiles()).toEqual([]);
      const lines = histories()[0] as Line[];
      console.info(`seed ${seed} on ${backend} (${stored ? `IndexedDB, compacted after ${compactAfter}` : 'memory'}, history '${historyMode}'): ${devices.length} devices, ${lines.length} messages (${lines.filter((l) => l.deleted).length} deleted, ${lines.filter((l) => l.edited).length} edited), ${restarts} restarts, ${diskFills} full disks (${disksFreedOnline} freed once online), ${attached.size} files`);
      expect((await server.storage.conversations.getConversation(id))?.lastSeq).toBe(lines.length);
      expect(refusals).toEqual([]);
      expect(devices.flatMap((d) => d.client.failures())).toEqual([]);
    } catch (error) {
      throw new Error(`seed ${seed} on ${backend} (${stored ? `IndexedDB replica, compacted after ${compactAfter}` : 'memory replica'}, history '${historyMode}') failed; replay with: SEED=${seed} npx vitest run ${FILE}\n${(error as Error).message}`, { cause: error });
    } finally {
      for (const device of devices) {
        device.client.close();
        if (device.replica instanceof StoredReplica) device.replica.close();
      }
    }
    // Longer than its two waits together, so a seed that never converges says where it stood.
  }, 180_000);
});
