// The app closed at any moment (a tab closed, a restart, a sign-out), not only once its writes are
// stored: work still under way when it closes (an upload asking the server, a search, a segment
// loading, a store to IndexedDB) must neither write into the closed app nor throw where no one
// listens, and what it had stored is sent at the next start. CI once failed on exactly that: an
// upload that went on after close() (fixed in client/src/files/Uploads.ts).
//
// The real SDK in Node with its IndexedDB replica (fake-indexeddb) against a real node. One person
// works on a device whose app is started and closed again and again, at a random moment after a
// burst of random actions (messages, some with a file, edits, reactions, read positions, both
// searches, opening an older message, loading older segments), online or offline; another person
// writes meanwhile. In the end the device starts once more and stays: it sends everything, both
// people see the same history numbered 1..N, nothing is refused, and nothing threw unhandled.
// The close paths are the client's own, so one backend (SQLite) is enough here; the honest
// sessions run both. SEED=n replays one seed.
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDbReplica, OutpostClient, type HistoryMode, type IndexedDbFactory } from '@outpost/client';
import type { MessageId } from '@outpost/shared-schema';
import { catchUnhandled, freshDatabase, random, refusalLog, seeds, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';
import { pdf } from './fileFixtures.ts';
import { browserProfile } from './offlineReplica.ts';

afterAll(teardown);

const FILE = 'e2e/src/closeAnytime.test.ts';
const PASSWORD = 'correct horse battery';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `work` settles (resolves or rejects) within `ms`. */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([work.then(() => true, () => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]).finally(() => clearTimeout(timer));
}


describe('the app closed at any moment', () => {
  it.each(seeds([1, 2, 3, 4]))('seed %i: nothing throws after close, and what was stored is sent at the next start', async (seed) => {
    const rng = random(seed);
    const refusals: string[] = [];
    const { unhandled, stop: stopCatching } = catchUnhandled();
    const profile: IndexedDbFactory = browserProfile();
    let replica: IndexedDbReplica | null = null;
    let ada: OutpostClient | null = null;
    let bob: OutpostClient | null = null;
    const historyMode: HistoryMode = seed % 2 === 0 ? 'all' : 'replica';
    try {
      const server = await startNode({ ...(await freshDatabase('sqlite')), segmentSize: rng.pick([3, 5, 1000]), log: refusalLog(refusals) });
      const url = server.url;
      const suffix = `${seed}x${process.pid}`;
      const signedUp = await OutpostClient.register({ url, history: historyMode }, { username: `ca${suffix}a`.slice(0, 32), password: PASSWORD });
      signedUp.close();
      const session = signedUp.session;
      bob = await OutpostClient.register({ url }, { username: `ca${suffix}b`.slice(0, 32), password: PASSWORD });
      const start = async () => {
        replica = await IndexedDbReplica.open({ userId: session.user.id, factory: profile, compactAfter: rng.pick([2, 8, 64]) });
        return OutpostClient.resume({ url, history: historyMode, persistence: replica }, session);
      };
      ada = await start();
      const id = await ada.createGroup('night shift', [bob.user.id]);
      await until('Bob has the group', () => bob?.conversation(id).meta().get()?.kind === 'group');

      let files = 0;
      let closes = 0;
      /** What was asked for before a close and never ended. */
      const hung: string[] = [];
      /** One thing Ada does; what it returns (named) is left running when the app closes. */
      const act = (client: OutpostClient, step: number): [string, Promise<unknown>] | undefined => {
        const chat = client.conversation(id);
        const visible = chat.messages().get().filter((m) => m.upload === undefined);
        const roll = rng.next();
        if (roll < 0.3 || visible.length === 0) {
          const file = rng.next() < 0.25;
          if (file) files += 1;
          chat.send(`ada ${step} r${rng.int(1000)}`, file ? { attachments: [{ data: pdf, name: `log${files}.pdf`, type: 'application/pdf' }] } : {});
          return undefined;
        }
        const target = rng.pick(visible);
        if (roll < 0.45) {
          if (target.author === client.user.id && !target.deleted) chat.edit(target.id as MessageId, `edited ${step}`);
          return undefined;
        }
        if (roll < 0.55) {
          if (!target.deleted) chat.react(target.id as MessageId, '👍');
          return undefined;
        }
        if (roll < 0.62) return void chat.markRead();
        if (roll < 0.72) return ['search', client.search('ada', { conversationId: id, limit: 5 })];
        if (roll < 0.8) return ['searchServer', client.searchServer('ada', { conversationId: id, limit: 5 })];
        if (roll < 0.9) return ['openAt', chat.openAt(target.id as MessageId)];
        return ['loadOlder', chat.loadOlder()];
      };

      for (let round = 0; round < 8 + rng.int(8); round++) {
        const client: OutpostClient = ada ?? (await start());
        ada = client;
        if (rng.next() < 0.3) client.disconnect();
        const running: Promise<void>[] = [];
        for (let i = 1 + rng.int(6); i > 0; i--) {
          const work = act(client, round * 10 + i);
          // What a user asked for just before closing the app may fail, but it ends: a loadOlder
          // awaited as the app closed once waited for good.
          if (work) running.push(settlesWithin(work[1], 15_000).then((settled) => void (settled || hung.push(`round ${round}: ${work[0]}`))));
          if (rng.next() < 0.5) await pause(rng.int(30));
        }
        if (rng.next() < 0.5) bob.conversation(id).send(`bob ${round}`);
        // Closed at once, a little later, or once everything is stored (a graceful restart).
        const when = rng.next();
        if (when < 0.3) await client.stored();
        else if (when < 0.8) await pause(rng.int(80));
        client.close();
        (replica as IndexedDbReplica | null)?.close();
        closes += 1;
        ada = null;
        await Promise.all(running);
        expect(hung, 'work asked for before the app closed never ended').toEqual([]);
        if (rng.next() < 0.5) await pause(rng.int(50));
      }

      // The last start stays: everything it had stored goes out, and both people agree.
      const last = await start();
      ada = last;
      const people = [last, bob];
      const describeState = () => ({
        refusals,
        unhandled,
        ada: { unsynced: last.hasUnsyncedChanges, waiting: last.outbox().get().map((op) => `${op.kind} ${op.docName}`), failures: last.failures() },
        histories: people.map((p) => history(p.conversation(id)).map((l) => `${l.seq}:${l.body}:${l.deleted ? 'x' : ''}:${l.reactions}`)),
      });
      await until('Ada has sent everything she had stored', () => !last.hasUnsyncedChanges && last.outbox().get().length === 0, describeState, 60_000);
      for (const person of people) while (await person.conversation(id).loadOlder());
      const numbered = async () => (await server.storage.conversations.getConversation(id))?.lastSeq;
      await until(
        'both see the same history, numbered 1..N, as the server numbered it',
        async () => {
          const [a, b] = people.map((p) => history(p.conversation(id)));
          return a !== undefined && numberedOneToN(a) && JSON.stringify(a) === JSON.stringify(b) && a.length === (await numbered());
        },
        async () => ({ ...describeState(), lastSeq: await numbered() }),
        60_000,
      );
      // Every message with a file that was shown at the end has it, on both sides.
      const withoutFiles = people.flatMap((p) => p.conversation(id).messages().get().filter((m) => !m.deleted && m.body.startsWith('ada') && m.upload !== undefined));
      expect(withoutFiles).toEqual([]);
      console.info(`seed ${seed} (history '${historyMode}'): ${closes} closes, ${history(last.conversation(id)).length} messages, ${files} sent with a file`);
      expect(refusals).toEqual([]);
      expect(people.flatMap((p) => p.failures())).toEqual([]);
      // Work left running by a close settles within a moment; give it that before looking.
      await pause(500);
      expect(unhandled).toEqual([]);
    } catch (error) {
      throw new Error(`seed ${seed} failed; replay with: SEED=${seed} npx vitest run ${FILE}\n${(error as Error).message}`, { cause: error });
    } finally {
      stopCatching();
      (ada as OutpostClient | null)?.close();
      (replica as IndexedDbReplica | null)?.close();
      bob?.close();
    }
  }, 180_000);
});
