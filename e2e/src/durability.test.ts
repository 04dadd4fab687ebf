// The update log under real traffic: it compacts into a snapshot in storage, and a new node on
// the same storage serves exactly the same history.
import { afterAll, describe, expect, it } from 'vitest';
import { segmentDoc } from '@outpost/shared-schema';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

describe.each(backends)('update log on %s', (backend) => {
  it('compacts a busy segment in storage and serves the same history from a new node', async () => {
    const database = await freshDatabase(backend);
    const first = await startNode(database);
    const ada = await signUp(first.url, 'ada');
    const bob = await signUp(first.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const a = ada.conversation(id);
    await until('synced', () => a.synced());
    for (let i = 1; i <= 260; i++) a.send(`message ${i}`); // one update each: more than a compaction's worth
    await until('all 260 numbered', () => history(a).length === 260 && numberedOneToN(history(a)), () => history(a).filter((l) => l.seq !== null).length);
    await until('the segment log was compacted', async () => (await first.storage.log.countEntries(segmentDoc(id, 0))) < 200, () => '', 30_000);
    const stored = await first.storage.log.load(segmentDoc(id, 0));
    expect(stored.base).not.toBeNull();
    const before = history(a);
    ada.close();
    await first.close();

    const second = await startNode(database);
    const bobAgain = await secondDevice(second.url, bob);
    const b = bobAgain.conversation(id);
    await until('bob reads the same history from the new node', () => JSON.stringify(history(b)) === JSON.stringify(before), () => history(b).length);
  });
});
