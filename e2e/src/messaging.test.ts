// Two people chat through the real server: messages, edits, deletions, reactions, replies, read
// positions across devices, unread counts and segment rollover, on SQLite and on Postgres.
import { afterAll, describe, expect, it } from 'vitest';
import { segmentDoc, type MessageId } from '@outpost/shared-schema';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, twoPeople, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

describe.each(backends)('messaging on %s', (backend) => {
  it('two clients exchange messages, edits, deletions and reactions and see the same ordered history', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    expect(await bob.openDirect(ada.user.id)).toBe(id); // idempotent from either side
    const a = ada.conversation(id);
    const b = bob.conversation(id);

    const first = a.send('hello bob');
    await until('bob sees the first message numbered', () => history(b).some((l) => l.id === first && l.seq === 1), () => history(b));
    const reply = b.send('hi ada', { replyTo: first });
    await until('ada sees the reply numbered', () => history(a).some((l) => l.id === reply && l.seq === 2));
    const third = a.send('how are you?');
    await until('both see three numbered messages', () => history(a).length === 3 && numberedOneToN(history(a)) && numberedOneToN(history(b)));

    a.edit(first, 'hello bob!');
    b.react(first, '👍');
    a.react(first, '👍');
    b.react(reply, '🎉');
    a.delete(third);
    const expected = (lines: ReturnType<typeof history>) =>
      lines.length === 3 &&
      lines[0]?.body === 'hello bob!' && lines[0].edited &&
      lines[0].reactions === `👍:${[ada.user.id, bob.user.id].sort().join('+')}` &&
      lines[1]?.reactions === `🎉:${bob.user.id}` &&
      lines[2]?.deleted === true && lines[2].body === '';
    await until('both see edits, reactions and the deletion', () => expected(history(a)) && expected(history(b)), () => [history(a), history(b)]);
    expect(history(a)).toEqual(history(b));
    expect(b.messages().get()[1]?.replyTo).toBe(first);

    b.unreact(reply, '🎉');
    await until('the removed reaction disappears for ada', () => history(a)[1]?.reactions === '');
    expect(history(a)).toEqual(history(b));
  });

  it('cuts a removed member off the conversation at once; what they write afterwards fails', async () => {
    const server = await startNode(await freshDatabase(backend));
    const [ada, bob, cyd] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'cyd')];
    const id = await ada.createGroup('crew', [bob.user.id, cyd.user.id]);
    const [a, c] = [ada.conversation(id), cyd.conversation(id)];
    c.send('hello crew');
    await until('ada sees cyd’s message', () => history(a).length === 1 && history(a)[0]?.seq === 1);
    await ada.removeMember(id, cyd.user.id);
    await until('cyd is told the conversation refused them', () => cyd.failures().some((f) => f.kind === 'forbidden'), () => cyd.failures());
    const late = c.send('am I still here?');
    await until('cyd’s late message is marked failed', () => c.messages().get().find((m) => m.id === late)?.status === 'failed', () => c.messages().get());
    bob.conversation(id).send('cyd is gone');
    await until('ada sees bob’s message', () => history(a).length === 2);
    expect(history(a).map((l) => l.body)).toEqual(['hello crew', 'cyd is gone']); // never cyd’s late one
    expect(history(c).map((l) => l.body)).not.toContain('cyd is gone');
    expect(cyd.conversations().get().map((x) => x.id)).not.toContain(id);
  });

  it('counts unread @mentions in the group’s inbox entry until they are read', async () => {
    const server = await startNode(await freshDatabase(backend));
    const [ada, bob] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob')];
    const id = await ada.createGroup('crew', [bob.user.id]);
    const g = ada.conversation(id);
    g.send(`@${bob.user.username} can you check the pump?`);
    g.send('no mention here');
    g.send(`thanks @${bob.user.username.toUpperCase()}`);
    await until('members carry their names', () =>
      bob.conversation(id).members().get().some((m) => m.userId === ada.user.id && m.username === ada.user.username && m.displayName === ada.user.displayName),
    );
    const entry = () => bob.conversations().get().find((c) => c.id === id);
    await until('bob’s inbox shows 3 unread, 2 mentions', () => entry()?.unread === 3 && entry()?.mentions === 2, () => entry());
    await until('bob has the three messages', () => numberedOneToN(history(bob.conversation(id))) && history(bob.conversation(id)).length === 3);
    bob.conversation(id).markRead();
    await until('reading clears the mentions', () => entry()?.mentions === 0 && entry()?.unread === 0, () => entry());
  });

  it('refuses to edit or delete another user’s message in the SDK before anything is sent', async () => {
    const { ada, bob, id } = await twoPeople(backend);
    const mine = ada.conversation(id).send('mine');
    await until('bob has it', () => history(bob.conversation(id)).some((l) => l.id === mine && l.seq === 1));
    expect(() => bob.conversation(id).edit(mine, 'not yours')).toThrow(/only the author/);
  });

  it('merges read positions of two devices to the maximum and keeps unread counts right', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const bobPhone = await secondDevice(server.url, bob);
    const id = await ada.openDirect(bob.user.id);
    const a = ada.conversation(id);
    for (let i = 1; i <= 5; i++) a.send(`message ${i}`);
    const unread = (client: typeof bob) => client.conversations().get().find((c) => c.id === id)?.unread;
    await until('bob’s inbox shows 5 unread', () => unread(bob) === 5 && unread(bobPhone) === 5, () => [bob.conversations().get(), bobPhone.conversations().get()]);
    expect(unread(ada)).toBe(0); // your own messages are not unread

    const laptop = bob.conversation(id);
    const phone = bobPhone.conversation(id);
    await until('the phone has all five numbered', () => numberedOneToN(history(phone)) && history(phone).length === 5);
    phone.markRead(4);
    await until('the laptop sees position 4 from the phone', () => laptop.readPosition() === 4 && unread(bob) === 1, () => [laptop.readPosition(), unread(bob)]);
    laptop.markRead(2); // older: never moves the position back
    await until('ada sees bob’s receipt at 4', () => a.receipts().get().find((r) => r.userId === bob.user.id)?.read === 4, () => a.receipts().get());
    expect(phone.readPosition()).toBe(4);
    expect(laptop.readPosition()).toBe(4);
    laptop.markRead(); // the newest
    await until('both devices read everything', () => phone.readPosition() === 5 && unread(bobPhone) === 0 && unread(bob) === 0);
    a.send('one more');
    await until('one unread again on both devices', () => unread(bob) === 1 && unread(bobPhone) === 1, () => [unread(bob), unread(bobPhone)]);
  });

  it('rolls segments over: size 10, 35 messages land in four segments in order; an edit of message 3 lands in segment 0', async () => {
    const { server, ada, bob, id } = await twoPeople(backend, { segmentSize: 10 });
    const a = ada.conversation(id);
    await until('the conversation meta is synced', () => a.meta().get()?.segmentSize === 10);
    const ids: MessageId[] = [];
    for (let i = 1; i <= 35; i++) {
      // At a person's pace: each message is acknowledged before the next.
      const sent = a.send(`m${i}`);
      ids.push(sent);
      await until(`m${i} is numbered`, () => a.messages().get().some((m) => m.id === sent && m.seq === i));
    }
    const b = bob.conversation(id);
    await until('bob sees 35 numbered messages', () => history(b).length === 35 && numberedOneToN(history(b)), () => history(b).length);
    expect(history(b).map((l) => l.body)).toEqual(ids.map((_, i) => `m${i + 1}`));
    expect(b.messages().get().map((m) => m.segment)).toEqual([...Array(35).keys()].map((i) => Math.floor(i / 10)));
    await until('the server moved head to segment 3', () => b.meta().get()?.head === 3, () => b.meta().get());

    const third = ids[2] as MessageId;
    a.edit(third, 'm3 edited');
    await until('bob sees the edit', () => history(b)[2]?.body === 'm3 edited');
    const segment0 = server.hocuspocus.documents.get(segmentDoc(id, 0));
    expect(segment0?.getMap('edits').has(third)).toBe(true);
    // Old segments nobody keeps subscribed any more are unloaded on the server (issue 14): no edits in any that is loaded.
    for (const n of [1, 2, 3]) expect(server.hocuspocus.documents.get(segmentDoc(id, n))?.getMap('edits').size ?? 0).toBe(0);
  });

  it('keeps a burst written offline in one segment and in the order it was written', async () => {
    const { ada, bob, id } = await twoPeople(backend, { segmentSize: 10 });
    const a = ada.conversation(id);
    await until('the conversation meta is synced', () => a.meta().get()?.segmentSize === 10);
    ada.disconnect();
    const bodies = [...Array(25).keys()].map((i) => `offline ${i + 1}`);
    for (const body of bodies) a.send(body);
    expect(a.messages().get().every((m) => m.status === 'pending')).toBe(true);
    ada.connect();
    const b = bob.conversation(id);
    await until('bob sees all 25 numbered', () => history(b).length === 25 && numberedOneToN(history(b)), () => history(b).length);
    expect(history(b).map((l) => l.body)).toEqual(bodies);
    expect(new Set(b.messages().get().map((m) => m.segment))).toEqual(new Set([0]));
  });
});
