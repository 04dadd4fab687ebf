// The SDK's side of a refusal: a client whose offline work became invalid while it was away
// comes back to a consistent, usable state and says what failed, without a reconnect loop.
import { afterAll, describe, expect, it } from 'vitest';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

describe.each(backends)('recovery on %s', (backend) => {
  it('reports messages written offline into a conversation the user was removed from, and keeps working elsewhere', async () => {
    const server = await startNode(await freshDatabase(backend));
    const [ada, bob, cyd] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'cyd')];
    const group = await ada.createGroup('crew', [bob.user.id, cyd.user.id]);
    const dm = await cyd.openDirect(bob.user.id);
    const g = cyd.conversation(group);
    await until('cyd has the group', () => g.meta().get()?.kind === 'group' && g.synced());

    cyd.disconnect();
    const lost = [g.send('written offline 1'), g.send('written offline 2')];
    await ada.removeMember(group, cyd.user.id);
    cyd.connect();

    await until(
      'cyd is told both offline messages failed, with the reason',
      () => lost.every((id) => g.messages().get().find((m) => m.id === id)?.status === 'failed'),
      () => [g.messages().get().map((m) => [m.status, m.failure]), cyd.failures()],
    );
    expect(g.messages().get().find((m) => m.id === lost[0])?.failure).toMatch(/^not a member/);
    expect(cyd.failures().some((f) => f.kind === 'forbidden')).toBe(true);
    // Still usable: the DM syncs both ways.
    const hello = cyd.conversation(dm).send('still here');
    await until('bob gets cyd’s DM', () => history(bob.conversation(dm)).some((l) => l.id === hello && l.seq !== null));
    // No loop: the group's two documents (server, segment) are each refused once and then left
    // alone; the work that waited for them failed instead of waiting for ever.
    const groupFailures = () => cyd.failures().filter((f) => f.docName.includes(group));
    await until('both documents of the group are stopped', () => groupFailures().length === 2 && groupFailures().every((f) => f.stopped && f.code === 'accessLost'), () => groupFailures());
    await until('the unsent messages left the outbox as failed work', () => cyd.outbox().get().every((op) => op.conversationId !== group) && cyd.failedWork().get().filter((op) => op.conversationId === group).length === 2);
    const before = JSON.stringify(groupFailures());
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(JSON.stringify(groupFailures())).toBe(before);
    expect(history(ada.conversation(group)).some((l) => lost.includes(l.id as never))).toBe(false);
  });

  it('quarantines a segment refused for a rule broken while away, keeps what is still valid and reports the rest', async () => {
    const server = await startNode(await freshDatabase(backend));
    const [ada, bob, cyd] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'cyd')];
    const group = await ada.createGroup('crew', [bob.user.id, cyd.user.id]);
    await ada.setRole(group, cyd.user.id, 'admin');
    const bobs = bob.conversation(group).send('bob’s message');
    const c = cyd.conversation(group);
    await until(
      'cyd has bob’s message numbered and knows she is admin',
      () => history(c).some((l) => l.id === bobs && l.seq === 1) && c.members().get().some((m) => m.userId === cyd.user.id && m.role === 'admin'),
      () => [history(c), c.members().get(), cyd.failures(), bob.failures(), history(bob.conversation(group))],
    );

    cyd.disconnect();
    c.delete(bobs); // allowed now, as an admin…
    const kept = [c.send('offline one'), c.send('offline two')];
    await ada.setRole(group, cyd.user.id, 'member'); // …but not any more when cyd is back
    cyd.connect();

    await until(
      'cyd’s valid messages are numbered after the quarantine',
      () => kept.every((id) => history(c).some((l) => l.id === id && l.seq !== null)),
      () => [history(c), cyd.failures()],
    );
    const failure = cyd.failures().find((f) => f.lost.length > 0);
    expect(failure?.lost).toEqual([{ kind: 'deletion', messageId: bobs, reason: expect.stringMatching(/only the author or a group admin/) }]);
    // Every replica agrees: bob's message stands, cyd's two messages follow it.
    for (const client of [ada, bob, cyd]) {
      await until('the replica converges', () => {
        const lines = history(client.conversation(group));
        return lines.length === 3 && numberedOneToN(lines) && lines[0]?.deleted === false && lines[0]?.id === bobs;
      }, () => history(client.conversation(group)));
    }
    // And cyd keeps writing normally.
    const after = c.send('back to normal');
    await until('bob gets it', () => history(bob.conversation(group)).some((l) => l.id === after && l.seq === 4));
  });
});
