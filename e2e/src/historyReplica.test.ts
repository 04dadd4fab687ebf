// History 'replica' under random sessions: while someone keeps writing and editing old messages, a
// device scrolls back, follows deep links, goes offline and restarts, and its background fetches
// open and close segments underneath all that. Afterwards its replica holds the whole history as
// the author sees it (read back offline with history 'all'), its search index finds every
// message by its current text, and memory held only what was asked for.
import { afterAll, describe, expect, it } from 'vitest';
import type { MessageId } from '@outpost/shared-schema';
import { freshDatabase, random, seeds, signUp, startNode, teardown, until } from './harness.ts';
import { browserProfile, closeReplicaClients, startOnReplica, type ReplicaClient } from './offlineReplica.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

/**
 * Waits a little for a scroll back or a deep link, not for ever: offline, a segment the replica
 * does not have yet waits for the connection (it comes later in the session, or not at all).
 */
async function briefly(work: Promise<unknown>): Promise<void> {
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 300))]);
}

/** Each message's text carries a token of its own, changed by every edit: `w<index>v<version>`. */
const token = (index: number, version: number) => `w${index}v${version}`;

describe("history 'replica' under random sessions", () => {
  it.each(seeds([1, 2, 3]))('seed %i: the replica ends up with the whole history, searchable, memory bounded', async (seed) => {
    const rng = random(seed);
    const server = await startNode({ ...(await freshDatabase('sqlite')), segmentSize: 5 });
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const a = ada.conversation(id);
    await until('ada knows the segment size', () => a.meta().get()?.segmentSize === 5);
    const ids: MessageId[] = [];
    const versions: number[] = [];
    const write = () => {
      versions.push(0);
      ids.push(a.send(`message ${token(ids.length, 0)}`));
    };
    for (let i = 0; i < 30; i++) write();
    await until('ada’s first 30 are numbered', () => a.messages().get().filter((m) => m.seq !== null).length === 30);

    const profile = browserProfile();
    let device: ReplicaClient = await startOnReplica(server.url, bob.session, profile, { history: 'replica' });
    const asked = new Set<number>();
    const log: string[] = [];
    for (let step = 0; step < 25; step++) {
      const b = device.client.conversation(id);
      const roll = rng.int(7);
      if (roll === 0) {
        const index = rng.int(ids.length);
        versions[index] = (versions[index] ?? 0) + 1;
        a.edit(ids[index] as MessageId, `edited ${token(index, versions[index] as number)}`);
        log.push(`ada edits ${index}`);
      } else if (roll === 1) {
        write();
        log.push(`ada writes ${ids.length - 1}`);
      } else if (roll === 2) {
        log.push('bob scrolls back');
        await briefly(b.loadOlder());
      } else if (roll === 3) {
        const index = rng.int(ids.length);
        log.push(`bob opens a link to ${index}`);
        await briefly(b.openAt(ids[index] as MessageId));
      } else if (roll === 4) {
        log.push('bob goes offline');
        device.client.disconnect();
      } else if (roll === 5) {
        log.push('bob comes back');
        device.client.connect();
      } else {
        log.push('bob restarts');
        await device.client.stored();
        device.close();
        device = await startOnReplica(server.url, bob.session, profile, { history: 'replica' });
      }
      for (const n of device.client.conversation(id).loadedSegments()) asked.add(n);
      await new Promise((resolve) => setTimeout(resolve, rng.int(40)));
    }

    // Online again: every message, by its current text, is found on the device. Segments between
    // the head it knew and the new one come into memory if the head moved on meanwhile.
    const knownHead = device.client.conversation(id).meta().get()?.head ?? 0;
    device.client.connect();
    const total = ids.length;
    await until('ada’s messages are all numbered', () => a.messages().get().filter((m) => m.seq !== null).length === total);
    const missing = async () => {
      const words = ids.map((messageId, index) => ({ messageId, index, word: token(index, versions[index] as number) }));
      const found = await Promise.all(words.map(async ({ messageId, word }) => (await device.client.search(word)).some((hit) => hit.messageId === messageId)));
      return words.filter((_, i) => !found[i]);
    };
    await until('bob’s search finds every message by its current text', async () => (await missing()).length === 0, async () => ({ missing: (await missing()).map((m) => m.index), log }), 60_000);
    // Memory: the latest segments and those bob asked for, not the whole history.
    const head = a.meta().get()?.head ?? 0;
    for (const n of device.client.conversation(id).loadedSegments()) expect(n >= head - 1 || n > knownHead || asked.has(n), `segment ${n} in memory (head ${head}); ${log.join(', ')}`).toBe(true);
    await device.client.stored();
    device.close();

    // The replica holds the whole history as ada sees it: read back offline, every segment in memory.
    const check = await startOnReplica(server.url, bob.session, profile, { offline: true, history: 'all' });
    const expected = a.messages().get().map((m) => `${m.seq} ${m.body}`);
    await until('the replica holds ada’s history', () => check.client.conversation(id).messages().get().map((m) => `${m.seq} ${m.body}`).join('\n') === expected.join('\n'), () => ({ log, got: check.client.conversation(id).messages().get().length, want: expected.length }));
    check.close();
  }, 180_000);
});

describe('a device away while the head moves on by several segments', () => {
  it.each(['all', 'replica', 'onDemand'] as const)("history '%s': back online, it shows every message since, with no hole between its last head and the new one", async (history) => {
    const server = await startNode({ ...(await freshDatabase('sqlite')), segmentSize: 3 });
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const a = ada.conversation(id);
    await until('ada knows the segment size', () => a.meta().get()?.segmentSize === 3);
    const sent: MessageId[] = [a.send('before 1'), a.send('before 2')];
    const device = await startOnReplica(server.url, bob.session, browserProfile(), { history });
    const b = device.client.conversation(id);
    await until('bob’s device has the first two', () => b.messages().get().filter((m) => m.seq !== null).length === 2);
    const headBefore = b.meta().get()?.head ?? 0;

    device.client.disconnect();
    // A few at a time: a device puts what it sends before the last is numbered into one segment.
    for (let round = 1; round <= 4; round++) {
      for (let i = 1; i <= 3; i++) sent.push(a.send(`while away ${round}.${i}`));
      await until('ada’s messages are numbered', () => a.messages().get().filter((m) => m.seq !== null).length === sent.length);
    }
    await until('the head moved on by more than one segment', () => (a.meta().get()?.head ?? 0) - headBefore > 1, () => ({ headBefore, head: a.meta().get()?.head }));
    const head = a.meta().get()?.head ?? 0;

    device.client.connect();
    const want = a.messages().get().map((m) => `${m.seq} ${m.body}`);
    await until(
      'bob’s device shows every message, 1..N',
      () => b.messages().get().map((m) => `${m.seq} ${m.body}`).join('\n') === want.join('\n'),
      () => ({ loaded: b.loadedSegments(), head, got: b.messages().get().map((m) => `${m.seq} ${m.body}`) }),
    );
    device.close();
  }, 60_000);
});
