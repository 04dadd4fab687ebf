// A group at its size limit (300 members, as the product promises) through the real server, on
// SQLite and on Postgres: it is created in one request, the 301st member is refused with a
// clear error, its members chat (numbered 1..N, unread counts, a mention of one of 300), and a
// member leaves and another takes the place.
import { afterAll, describe, expect, it } from 'vitest';
import { Limits, type UserId } from '@outpost/shared-schema';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

describe('a group at its size limit', () => {
  it.each(backends)('on %s: created whole, refuses one more, and its members chat', async (backend) => {
    const server = await startNode(await freshDatabase(backend));
    const [ada, bob, cyd] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'cyd')];
    // The rest of the team never signs in: accounts made in storage (signing up 297 people
    // through the API would only time the password hashing).
    const others: UserId[] = [];
    for (let i = 0; i < Limits.groupMembers - 2; i++) {
      const id = crypto.randomUUID() as UserId;
      await server.storage.accounts.createUser({ id, username: `member${i}`, displayName: `Member ${i}`, passwordHash: 'x', createdAt: 1 });
      others.push(id);
    }
    const everyone = [bob.user.id, cyd.user.id, ...others.slice(0, Limits.groupMembers - 3)] as UserId[];
    const group = await ada.createGroup('whole site', everyone);
    const spare = others.at(-1) as UserId;

    const summary = async () => (await ada.fetchConversations()).find((c) => c.id === group);
    expect((await summary())?.members).toHaveLength(Limits.groupMembers);
    await expect(ada.addMembers(group, [spare])).rejects.toMatchObject({ kind: 'tooLarge', message: expect.stringMatching(/at most 300 members/) });

    const [a, b, c] = [ada.conversation(group), bob.conversation(group), cyd.conversation(group)];
    const named = (view: typeof a) => view.members().get().filter((m) => m.username).length;
    await until('bob and cyd know the 300 members by name', () => named(b) === Limits.groupMembers && named(c) === Limits.groupMembers, () => [named(b), named(c)]);
    for (let i = 1; i <= 5; i++) a.send(`briefing ${i}`);
    c.send(`@${bob.user.username} can you take the north gate?`);
    const all = () => [a, b, c].map((view) => history(view));
    await until(
      'everyone has the six messages, numbered 1..6',
      () => all().every((lines) => lines.length === 6 && numberedOneToN(lines)),
      () => all().map((lines) => lines.map((l) => `${l.seq} ${l.body}`)),
    );
    const bobsEntry = () => bob.conversations().get().find((item) => item.id === group);
    await until('bob has six unread, one of them a mention', () => bobsEntry()?.unread === 6 && bobsEntry()?.mentions === 1, () => bobsEntry());
    b.markRead();
    await until('bob read them', () => bobsEntry()?.unread === 0);

    // Someone leaves; the place is free for someone else.
    await ada.removeMember(group, others[0] as UserId);
    await ada.addMembers(group, [spare]);
    expect((await summary())?.members).toHaveLength(Limits.groupMembers);
    a.send('welcome');
    await until('bob has the welcome as number 7', () => history(b).some((l) => l.body === 'welcome' && l.seq === 7));
  }, 120_000);
});
