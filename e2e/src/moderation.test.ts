// Moderation through the real server, on SQLite and on Postgres: an owner locks a group to
// admins-only posting — the server refuses a member's message (also one written offline before
// the member heard of the lock, which the SDK then reports as lost with the reason) — and opens
// it again; a member reports a message, the server administrator sees it with its context and
// resolves it; the audit log holds the lock changes, the report and a removal by a moderator.
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostError, type MessageId } from '@outpost/shared-schema';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

const forbidden = (error: unknown) => error instanceof OutpostError && error.kind === 'forbidden';

describe.each(backends)('moderation on %s', (backend) => {
  it('a locked group takes messages from its owner and admins only, online or offline', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.createGroup('announcements', [bob.user.id]);
    const a = ada.conversation(id);
    const b = bob.conversation(id);
    const early = b.send('before the lock');
    await until('ada has bob’s first message', () => a.has(early));

    // Bob goes offline and writes; meanwhile ada locks the group.
    bob.disconnect();
    const offline = b.send('written offline, before hearing of the lock');
    await expect(bob.setPosting(id, 'admins')).rejects.toSatisfy(forbidden);
    await ada.setPosting(id, 'admins');
    await until('ada’s copy shows the lock', () => a.meta().get()?.posting === 'admins');
    bob.connect();
    await until('bob hears of the lock', () => b.meta().get()?.posting === 'admins' && !b.canPost());
    await until('bob’s offline message is reported lost, with the reason', () =>
      bob.failures().some((f) => f.lost.some((l) => l.messageId === offline && /locked/.test(l.reason))),
      () => bob.failures(),
    );
    expect(() => b.send('after the lock')).toThrow(OutpostError);
    const fromAda = a.send('admins only here');
    await until('bob receives ada’s message', () => b.isNumbered(fromAda));
    expect(history(a).map((l) => l.body)).toEqual(['before the lock', 'admins only here']);
    expect(await server.storage.projection.getMessage(id, offline as MessageId)).toBeNull();

    await ada.setPosting(id, 'everyone');
    await until('bob may post again', () => b.canPost());
    const after = b.send('open again');
    await until('ada has it', () => a.isNumbered(after));
    const audited = await server.storage.audit.list({ kinds: ['group.locked', 'group.unlocked'], involving: id, limit: 10 });
    expect(audited.map((e) => [e.kind, e.actor])).toEqual([['group.unlocked', ada.user.id], ['group.locked', ada.user.id]]);
  });

  it('a reported message reaches the server administrator with its context; a removal by a moderator is audited', async () => {
    const server = await startNode(await freshDatabase(backend));
    const admin = await signUp(server.url, 'admin'); // the first account is a server administrator
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const cy = await signUp(server.url, 'cy');
    const id = await ada.createGroup('yard', [bob.user.id, cy.user.id]);
    const b = bob.conversation(id);
    const before = b.send('morning all');
    const bad = b.send('something nasty');
    await until('cy has bob’s two messages', () => [before, bad].every((m) => cy.conversation(id).isNumbered(m)));
    const after = cy.conversation(id).send('please stop');
    await until('cy has all three', () => [before, bad, after].every((m) => cy.conversation(id).isNumbered(m)));

    await expect(cy.report(id, bad, '')).rejects.toSatisfy((error: unknown) => error instanceof OutpostError && error.kind === 'invalidInput');
    await cy.report(id, bad, 'insulting');
    await cy.report(id, bad, 'insulting'); // again: one report
    await expect(bob.reports()).rejects.toSatisfy(forbidden);
    expect(await admin.isServerAdmin()).toBe(true);
    expect(await bob.isServerAdmin()).toBe(false);
    const [report, ...more] = await admin.reports();
    expect(more).toEqual([]);
    expect(report).toMatchObject({
      reason: 'insulting',
      reporter: { id: cy.user.id, username: cy.user.username },
      conversation: { id, kind: 'group', title: 'yard' },
      message: { id: bad, body: 'something nasty', author: { id: bob.user.id }, deleted: false },
    });
    expect(report?.context.map((m) => m.body)).toEqual(['morning all', 'please stop']);
    await admin.resolveReport(report?.id as string);
    expect(await admin.reports()).toEqual([]);
    expect(await admin.reports({ open: false })).toHaveLength(1);

    // The group's owner removes the message: audited as a removal by someone else than its author.
    ada.conversation(id).delete(bad);
    await until('bob sees it removed', () => history(b).find((l) => l.id === bad)?.deleted === true);
    await until('the audit log has the report and the removal', async () => {
      const events = await server.storage.audit.list({ kinds: ['message.reported', 'message.removedByModerator'], involving: bad, limit: 10 });
      return events.length === 2;
    });
  });
});
