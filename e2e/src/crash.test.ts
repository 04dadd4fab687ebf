// kill -9 of the server in the middle of a burst of writes: everything a client saw numbered
// is still there after a restart, with the same number, and the clients converge again.
import { afterAll, describe, expect, it } from 'vitest';
import { backends, freshDatabase, signUp, spawnNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

describe.each(backends)('crash on %s', (backend) => {
  it('keeps every acknowledged message across kill -9 and converges after restart', async () => {
    const node = await spawnNode(await freshDatabase(backend));
    const ada = await signUp(node.url, 'ada');
    const bob = await signUp(node.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const a = ada.conversation(id);
    const b = bob.conversation(id);
    await until('both are synced', () => a.synced() && b.synced());

    // A burst from both sides; kill the node once some of it is acknowledged.
    let sent = 0;
    const burst = (async () => {
      for (let i = 0; i < 60; i++) {
        (i % 3 === 0 ? b : a).send(`burst ${i}`);
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    await until('some of the burst is acknowledged', () => history(a).filter((l) => l.seq !== null).length >= 10);
    await node.kill();
    const acknowledged = new Map<string, number>();
    for (const l of [...history(a), ...history(b)]) if (l.seq !== null) acknowledged.set(l.id, l.seq);
    await burst; // the rest is written while the server is down
    await node.restart();

    await until(
      'both converge on all messages numbered 1..N',
      () => history(a).length === sent && numberedOneToN(history(a)) && JSON.stringify(history(a)) === JSON.stringify(history(b)),
      () => [history(a).length, history(a).filter((l) => l.seq === null).length, history(b).length, sent],
      60_000,
    );
    const after = new Map(history(a).map((l) => [l.id, l.seq]));
    for (const [messageId, seq] of acknowledged) expect(after.get(messageId), `message ${messageId} kept its number`).toBe(seq);
    expect(acknowledged.size).toBeGreaterThanOrEqual(10);

    // Server search finds every one of them, those the dead node had not indexed yet too (on
    // SQLite new messages wait in a queue for the index, which survives the crash).
    const found = new Set<string>();
    for (let offset: number | null = 0; offset !== null; ) {
      const page = await ada.searchServer('burst', { conversationId: id, offset });
      for (const hit of page.hits) found.add(hit.messageId);
      offset = page.nextOffset;
    }
    expect([...found].sort()).toEqual([...after.keys()].sort());
  });
});
