// Issue 8, forgeries: a member with a valid account writes raw Yjs that the SDK never would.
// Each forgery is refused with its code and nothing of it lands: the document, the numbering,
// the projection and the other members' screens stay as they were, and the honest members
// keep chatting. (An edit after a deletion is the one exception: accepted, never shown.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { OutpostClient } from '@outpost/client';
import { segmentDoc, segmentMaps, userDoc, writeDeletion, writeEdit, writeMessage, writeReaction, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import type { OutpostServer } from '@outpost/sync-server';
import { attempt, openRaw } from './attacker.ts';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

const SEGMENT_SIZE = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends)('forgeries on %s', (backend) => {
  let server: OutpostServer;
  let ada: OutpostClient; // the group's owner
  let bob: OutpostClient; // the victim
  let eve: OutpostClient; // the forger: a member
  let dm: ConversationId; // ada and bob, for "still chatting"

  beforeAll(async () => {
    server = await startNode({ ...(await freshDatabase(backend)), segmentSize: SEGMENT_SIZE });
    [ada, bob, eve] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'eve')];
    dm = await ada.openDirect(bob.user.id);
  });

  async function group(): Promise<ConversationId> {
    const id = await ada.createGroup('crew', [bob.user.id, eve.user.id]);
    await until('everyone has the group', () => [ada, bob, eve].every((c) => c.conversation(id).meta().get()?.kind === 'group'));
    return id;
  }

  const line = (client: OutpostClient, id: ConversationId, messageId: MessageId) => history(client.conversation(id)).find((l) => l.id === messageId);
  const loaded = (docName: string) => server.hocuspocus.documents.get(docName);

  /** What a forgery must not change: the document, the numbering, the projection, every screen. */
  async function observed(id: ConversationId, docName: string, watched: MessageId[]) {
    const doc = loaded(docName);
    return JSON.stringify({
      doc: [...Y.encodeStateAsUpdate(doc ?? new Y.Doc())], // not loaded: empty
      lastSeq: (await server.storage.conversations.getConversation(id))?.lastSeq,
      projection: await Promise.all(watched.map((m) => server.storage.projection.getMessage(id, m))),
      receipts: [...(await server.storage.projection.getReadPositions(id))].sort(),
      screens: [ada, bob].map((c) => [history(c.conversation(id)), c.conversations().get().find((item) => item.id === id)?.lastMessage ?? null]),
    });
  }

  async function honestUsersStillChat(): Promise<void> {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const next = ada.conversation(dm).send(`still here ${Math.random()}`);
    await until('bob still receives ada’s messages', () => line(bob, dm, next)?.seq != null);
  }

  /** Eve writes `change` into `docName`: refused with `reason`, and nothing observed changes. */
  async function refusedWithout(id: ConversationId, docName: string, change: (doc: Y.Doc) => void, reason: RegExp, watched: MessageId[] = []): Promise<void> {
    const before = await observed(id, docName, watched);
    const outcome = await attempt(server.url, docName, eve.session.accessToken, change);
    expect(outcome).toMatchObject({ refused: true });
    expect(outcome.refused && outcome.reason).toMatch(reason);
    await sleep(300); // a negative check: give a wrongly accepted write time to show
    expect(await observed(id, docName, watched)).toBe(before);
    await honestUsersStillChat();
  }

  it('never lets a pending rewrite win: a gapped update waits, and is refused once its gap fills', async () => {
    const id = await group();
    const docName = segmentDoc(id, 0);
    const m = crypto.randomUUID() as MessageId;
    const author = eve.user.id as UserId;
    // Eve's forging client (a high client id, so its write would win a tie): clock 0 is a filler
    // message, held back; clock 1 writes message m, sent first, with the gap before it.
    const forger = new Y.Doc();
    forger.clientID = 2 ** 32 - 2 - Math.floor(Math.random() * 1000);
    writeMessage(forger, crypto.randomUUID() as MessageId, { author, createdAt: Date.now(), body: 'filler' });
    const filler = Y.encodeStateAsUpdate(forger);
    const afterFiller = Y.encodeStateVector(forger);
    writeMessage(forger, m, { author, createdAt: Date.now(), body: 'the text everyone will see' });
    const gapped = Y.encodeStateAsUpdate(forger, afterFiller);

    const session = await openRaw(server.url, docName, eve.session.accessToken);
    session.send(gapped);
    await sleep(300); // a negative check: nothing of the gapped update lands
    expect(loaded(docName) && segmentMaps(loaded(docName)!).messages.has(m)).toBe(false);
    expect(await server.storage.projection.getMessage(id, m)).toBeNull();

    // The harmless body for the same id, from another of eve's clients: accepted and numbered.
    const harmless = new Y.Doc();
    harmless.clientID = 1_000 + Math.floor(Math.random() * 1000);
    writeMessage(harmless, m, { author, createdAt: Date.now(), body: 'harmless' });
    const other = await openRaw(server.url, docName, eve.session.accessToken);
    other.send(Y.encodeStateAsUpdate(harmless));
    await other.acknowledged();
    other.close();
    await until('everyone sees the harmless text numbered', () => [ada, bob, eve].every((c) => line(c, id, m)?.body === 'harmless' && line(c, id, m)?.seq != null));

    // The gap fills: the waiting struct can integrate now, is judged, and refused.
    let refusal: string | null = null;
    void session.refused.then((reason) => (refusal = reason));
    session.send(filler);
    await until('the forging connection is refused', () => refusal !== null, () => [ada, bob].map((c) => line(c, id, m)));
    expect(refusal).toMatch(/^forbidden\[ruleBroken\]: a message is written once/);
    session.close();
    await sleep(300); // a negative check: the first text never shows
    for (const client of [ada, bob, eve]) expect(line(client, id, m)).toMatchObject({ body: 'harmless', edited: false, deleted: false });
    expect(segmentMaps(loaded(docName)!).messages.get(m)?.body).toBe('harmless');
    expect(await server.storage.projection.getMessage(id, m)).toMatchObject({ body: 'harmless', editedAt: null });
    expect(numberedOneToN(history(ada.conversation(id)))).toBe(true);
    await honestUsersStillChat();
  });

  it('refuses a message id reused in another segment, and edits or deletions of it there', async () => {
    const id = await group();
    const b = bob.conversation(id);
    b.send('first');
    b.send('second');
    const victim = b.send('bob’s own words');
    await until('segment 0 is full and ada’s list shows bob’s message', () => {
      const last = ada.conversations().get().find((item) => item.id === id)?.lastMessage;
      return ada.conversation(id).meta().get()?.head === 1 && last?.id === victim && last.author === bob.user.id;
    });
    const author = eve.user.id as UserId;
    const docName = segmentDoc(id, 1);
    await refusedWithout(id, docName, (d) => writeMessage(d, victim, { author, createdAt: Date.now(), body: 'forged preview' }), /^forbidden\[ruleBroken\]: a message id is used once in a conversation/, [victim]);
    await refusedWithout(id, docName, (d) => writeEdit(d, victim, { body: 'forged edit', editedAt: Date.now() }), /^forbidden\[ruleBroken\]: edits, deletions and reactions go to the segment that holds the message/, [victim]);
    await refusedWithout(id, docName, (d) => writeDeletion(d, victim, { by: author, at: Date.now() }), /^forbidden\[ruleBroken\]: edits, deletions and reactions go to the segment that holds the message/, [victim]);
    await refusedWithout(id, docName, (d) => writeReaction(d, victim, '💩', author, Date.now()), /^forbidden\[ruleBroken\]: edits, deletions and reactions go to the segment that holds the message/, [victim]);
    // The victim's message is intact everywhere.
    expect(await server.storage.projection.getMessage(id, victim)).toMatchObject({ author: bob.user.id, body: 'bob’s own words', segment: 0, deletedAt: null, editedAt: null });
    for (const client of [ada, bob, eve]) expect(line(client, id, victim)).toMatchObject({ author: bob.user.id, body: 'bob’s own words', deleted: false, edited: false });
  });

  it('refuses a message written into segment 7 while head is 0', async () => {
    const id = await group();
    const m = crypto.randomUUID() as MessageId;
    await refusedWithout(
      id,
      segmentDoc(id, 7),
      (d) => writeMessage(d, m, { author: eve.user.id as UserId, createdAt: Date.now(), body: 'where nobody looks' }),
      /^forbidden\[ruleBroken\]: new messages go to segment 1 at most/,
      [m],
    );
    expect(await server.storage.projection.getMessage(id, m)).toBeNull();
    expect((await server.storage.conversations.getConversation(id))?.lastSeq).toBe(0);
  });

  it('refuses a read position of 2^40, and the receipts stay as they were', async () => {
    const id = await group();
    const m = bob.conversation(id).send('read me');
    await until('eve has it numbered', () => line(eve, id, m)?.seq === 1);
    eve.conversation(id).markRead();
    await until('eve’s receipt is 1', async () => (await server.storage.projection.getReadPositions(id)).get(eve.user.id as UserId) === 1);
    await until('ada sees eve’s receipt', () => ada.conversation(id).receipts().get().some((r) => r.userId === eve.user.id && r.read === 1));
    await refusedWithout(id, userDoc(eve.user.id as UserId), (d) => d.getMap('reads').set(`${id}/${eve.deviceId}`, 2 ** 40), /^forbidden\[ruleBroken\]: a read position cannot be past the last message/);
    expect(ada.conversation(id).receipts().get().find((r) => r.userId === eve.user.id)?.read).toBe(1);
  });

  it('accepts an edit or a reaction after a deletion but never shows or stores it', async () => {
    const id = await group();
    const e = eve.conversation(id);
    const m = e.send('soon gone');
    await until('numbered', () => line(ada, id, m)?.seq === 1);
    e.delete(m);
    await until('ada sees the deletion', () => line(ada, id, m)?.deleted === true);
    const outcome = await attempt(server.url, segmentDoc(id, 0), eve.session.accessToken, (d) => {
      writeEdit(d, m, { body: 'back from the dead', editedAt: Date.now() });
      writeReaction(d, m, '👻', eve.user.id as UserId, Date.now());
    });
    expect(outcome).toEqual({ refused: false });
    await sleep(300); // a negative check: nothing of it shows
    const maps = segmentMaps(loaded(segmentDoc(id, 0))!);
    expect(maps.edits.has(m)).toBe(false);
    expect([...maps.reactions.keys()].filter((key) => key.startsWith(m))).toEqual([]);
    expect(await server.storage.projection.getMessage(id, m)).toMatchObject({ body: '', editedAt: null, deletedAt: expect.any(Number) });
    for (const client of [ada, bob, eve]) expect(line(client, id, m)).toMatchObject({ deleted: true, edited: false, body: '', reactions: '' });
    await honestUsersStillChat();
  });
});
