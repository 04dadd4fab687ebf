// Issue 8, one member hurting others: frames built to make the node work hard, to bloat what
// everyone syncs, to multiply broadcasts, to take over someone's presence, or to leak connection
// slots. Each time the node keeps answering, the honest members keep their connections and
// keep chatting. How long /health waits under the worst frames is printed, never asserted
// (`npm run bench` shows speed).
import { afterAll, describe, expect, it } from 'vitest';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { OutpostClient } from '@outpost/client';
import { SERVER_CLIENT_BASE, presenceDoc, segmentDoc, userDoc, writeReaction, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import { startTcpProxy } from '@outpost/storage/testing';
import { attempt, authFrame, awarenessFrame, chainFrame, gcPerClientUpdate, openRaw, rawSocket, type Outcome } from './attacker.ts';
import { backends, freshDatabase, signUp, spawnNode, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';
import { listeningWebSocket } from './refusalLog.ts';

afterAll(teardown);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ada (owner), bob and eve in a group, on a node at `url`; bob's socket records refusals. */
async function crew(url: string) {
  const listening = listeningWebSocket();
  const ada = await signUp(url, 'ada');
  const bob = await signUp(url, 'bob', { WebSocket: listening.WebSocket });
  const eve = await signUp(url, 'eve');
  const group = await ada.createGroup('crew', [bob.user.id, eve.user.id]);
  await until('everyone has the group', () => [ada, bob, eve].every((c) => c.conversation(group).synced() && c.conversation(group).meta().get()?.kind === 'group'));
  return { ada, bob, eve, group, bobHeard: listening.refusals };
}

async function stillChatting(from: OutpostClient, to: OutpostClient, group: ConversationId): Promise<void> {
  const id = from.conversation(group).send(`still here ${Math.random()}`);
  await until('the message arrives numbered', () => history(to.conversation(group)).some((l) => l.id === id && l.seq !== null));
}

/** Runs `work` while asking /health every few ms; returns its outcome and the longest wait. */
async function healthWhile<T>(url: string, work: Promise<T>): Promise<{ result: T; longestMs: number; answers: number }> {
  let done = false;
  let longestMs = 0;
  let answers = 0;
  const polling = (async () => {
    while (!done) {
      const start = performance.now();
      const response = await fetch(`${url}/health`);
      expect(response.status).toBe(200);
      await response.body?.cancel();
      longestMs = Math.max(longestMs, performance.now() - start);
      answers += 1;
      await sleep(5);
    }
  })();
  try {
    return { result: await work, longestMs, answers };
  } finally {
    done = true;
    await polling;
  }
}

describe.each(backends)('one member against the others on %s', (backend) => {
  it('keeps answering /health while it validates a 4,000-item chain and the worst ~120 KB frame', async () => {
    const node = await spawnNode(await freshDatabase(backend));
    const { ada, bob, eve, group } = await crew(node.url);
    const token = eve.session.accessToken;
    const draftKey = group; // drafts are keyed by conversation

    // 4,000 chained items, as two of eve's devices overwriting one draft in turns would make them.
    const [first, second] = [new Y.Doc(), new Y.Doc()];
    first.on('update', (update: Uint8Array, origin: unknown) => origin !== second && Y.applyUpdate(second, update, first));
    second.on('update', (update: Uint8Array, origin: unknown) => origin !== first && Y.applyUpdate(first, update, second));
    for (let i = 0; i < 4_000; i++) (i % 2 === 0 ? first : second).getMap('drafts').set(draftKey, `draft ${i}`);
    const chain = Y.encodeStateAsUpdate(first);
    const chained = await healthWhile(node.url, attempt(node.url, userDoc(eve.user.id as UserId), token, (_d, sendRaw) => sendRaw(chain)));
    console.info(`[${backend}] 4,000 chained items (${chain.byteLength} bytes): accepted=${!chained.result.refused}; /health answered ${chained.answers} times, the longest wait ${chained.longestMs.toFixed(1)} ms`);
    expect(chained.result).toEqual({ refused: false });

    // The worst shape within the limits: the longest chain a frame may hold, every deleted item
    // with its own delete range, about 120 KB.
    const low = 1 + Math.floor(Math.random() * 60);
    const last = (second.getMap('drafts') as unknown as { _map: Map<string, Y.Item> })._map.get(draftKey)!.id;
    const worst = chainFrame({ clients: [low, low + 60], length: 15_000, root: 'drafts', key: draftKey, value: 'the last word', after: last });
    const judged = await healthWhile(node.url, attempt(node.url, userDoc(eve.user.id as UserId), token, (_d, sendRaw) => sendRaw(worst)));
    const verdict = judged.result.refused ? `refused (${judged.result.reason})` : 'accepted';
    console.info(`[${backend}] worst frame (${worst.byteLength} bytes, 15,000 chained items, 14,999 delete ranges): ${verdict}; /health answered ${judged.answers} times, the longest wait ${judged.longestMs.toFixed(1)} ms`);
    expect(worst.byteLength).toBeGreaterThan(100_000);
    expect(judged.result).toEqual({ refused: false });

    // What eve's devices see is the last draft; the others never noticed.
    const copy = await openRaw(node.url, userDoc(eve.user.id as UserId), token);
    expect(copy.doc.getMap('drafts').get(draftKey)).toBe('the last word');
    copy.close();
    await stillChatting(ada, bob, group);
    await stillChatting(bob, ada, group);
  });

  it('refuses state-vector bloat, and an honest member’s next reconnect still works', async () => {
    const server = await startNode(await freshDatabase(backend));
    const { ada, bob, eve, group, bobHeard } = await crew(server.url);
    const victim = bob.conversation(group).send('react to me');
    await until('numbered', () => history(eve.conversation(group)).some((l) => l.id === victim && l.seq === 1));
    const segment = () => server.hocuspocus.documents.get(segmentDoc(group, 0))!;
    const clientsBefore = Y.decodeStateVector(Y.encodeStateVector(segment())).size;

    // Empty GC structs under 45,000 made-up client ids (a frame of about 400 KB), and under 10,000.
    const ids = (count: number) => Array.from({ length: count }, (_, i) => 100_000 + i);
    const bloat = await attempt(server.url, segmentDoc(group, 0), eve.session.accessToken, (_d, sendRaw) => sendRaw(gcPerClientUpdate(ids(45_000))));
    expect(bloat).toMatchObject({ refused: true, reason: expect.stringMatching(/^tooLarge\[ruleBroken\]: an update holds at most 20000 structs/) });
    const smaller = await attempt(server.url, segmentDoc(group, 0), eve.session.accessToken, (_d, sendRaw) => sendRaw(gcPerClientUpdate(ids(10_000))));
    expect(smaller).toMatchObject({ refused: true, reason: expect.stringMatching(/^forbidden\[ruleBroken\]: garbage-collected structs are not accepted/) });
    // Real items under 40 new client ids in one update.
    const many = await attempt(server.url, segmentDoc(group, 0), eve.session.accessToken, (_d, sendRaw) => sendRaw(reactionsUnder(40, segment(), victim, eve.user.id as UserId)));
    expect(many).toMatchObject({ refused: true, reason: expect.stringMatching(/^tooLarge\[ruleBroken\]: an update may bring at most 32 new Yjs client ids/) });
    // 30 at a time: the document's daily budget of new client ids per user runs out.
    let outcome: Outcome = { refused: false };
    let frames = 0;
    while (!outcome.refused && frames < 20) {
      outcome = await attempt(server.url, segmentDoc(group, 0), eve.session.accessToken, (_d, sendRaw) => sendRaw(reactionsUnder(30, segment(), victim, eve.user.id as UserId)));
      frames += 1;
    }
    expect(outcome).toMatchObject({ refused: true, reason: expect.stringMatching(/^rateLimited\[retry,\d+\]: at most 256 new Yjs client ids per day in one document/) });
    expect(frames).toBe(9);
    expect(Y.decodeStateVector(Y.encodeStateVector(segment())).size).toBeLessThanOrEqual(clientsBefore + 256);

    // Bob's next reconnect: his sync step is small, his socket stays, he chats.
    bob.disconnect();
    await until('bob is offline', () => bob.status().get() === 'disconnected');
    bob.connect();
    await until('bob is back and synced', () => bob.status().get() === 'connected' && bob.conversation(group).synced());
    await stillChatting(bob, ada, group);
    expect(bobHeard).toEqual([]);
  });

  it('refuses opening one document under many session suffixes on one socket, so a broadcast is not multiplied', async () => {
    const server = await startNode(await freshDatabase(backend));
    const { ada, eve, group } = await crew(server.url);
    const name = segmentDoc(group, 0);
    const socket = rawSocket(server.url);
    const answers = new Map<string, string>(); // address → authenticated, or the refusal
    const updates: string[] = []; // addresses of update frames received
    socket.ws.addEventListener('message', (event: MessageEvent) => {
      const decoder = decoding.createDecoder(new Uint8Array(event.data as ArrayBuffer));
      const address = decoding.readVarString(decoder);
      const type = decoding.readVarUint(decoder);
      if (type === 2) {
        const sub = decoding.readVarUint(decoder);
        answers.set(address, sub === 2 ? 'authenticated' : decoding.readVarString(decoder));
      } else if (type === 0 && decoding.readVarUint(decoder) === 2) updates.push(address);
    });
    await socket.opened;
    const addresses = Array.from({ length: 12 }, (_, k) => `${name}\0k${k}`);
    for (const address of addresses) socket.ws.send(authFrame(address, eve.session.accessToken));
    await until('every address has an answer', () => answers.size === addresses.length, () => [...answers.values()]);
    const admitted = [...answers].filter(([, answer]) => answer === 'authenticated').map(([address]) => address);
    expect(admitted).toHaveLength(4);
    for (const [address, answer] of answers) {
      if (answer !== 'authenticated') expect(answer, address).toMatch(/^tooLarge\[retry,\d+\]: a document is open at most 4 times per connection/);
    }

    const id = ada.conversation(group).send('one broadcast');
    await until('eve’s socket got it', () => updates.length > 0);
    await sleep(300); // a negative check: no more copies follow
    expect(updates.length).toBeLessThanOrEqual(admitted.length);
    expect(new Set(updates).size).toBe(updates.length);
    expect(history(eve.conversation(group)).some((l) => l.id === id)).toBe(true);
    socket.ws.close();
    await socket.closed;
    await stillChatting(eve, ada, group);
  });

  it('keeps the victim’s presence when a contact reuses their awareness client id with clock 2^53', async () => {
    const server = await startNode(await freshDatabase(backend));
    const { ada, bob, eve, group } = await crew(server.url);
    // Presence goes out when it changes (or every 15 s): say "not typing" once the group exists.
    for (const client of [bob, eve]) client.conversation(group).setTyping(false);
    await until('ada sees bob and eve online', () => ['bob', 'eve'].every((who) => ada.online().get().includes((who === 'bob' ? bob : eve).user.id as UserId)));
    const bobsPresence = () => server.hocuspocus.documents.get(presenceDoc(bob.user.id as UserId))!;
    const bobsId = [...bobsPresence().awareness.getStates()].find(([, state]) => (state as { user?: { id: string } }).user?.id === bob.user.id)?.[0];
    expect(bobsId).toBeDefined();

    // Eve's own presence document, with bob's client id, a huge clock and bob's name in it; and
    // one of the relay's own ids.
    const socket = rawSocket(server.url);
    await socket.opened;
    const mine = presenceDoc(eve.user.id as UserId);
    socket.ws.send(authFrame(mine, eve.session.accessToken));
    socket.ws.send(
      awarenessFrame(mine, [
        { clientId: bobsId!, clock: 2 ** 53, state: { user: { id: bob.user.id }, typing: group } },
        { clientId: SERVER_CLIENT_BASE + 1, clock: 2 ** 53, state: { user: { id: bob.user.id }, typing: group } },
      ]),
    );
    const typing = () => ada.conversation(group).typing().get();
    await until('ada sees eve typing (what eve may say about herself)', () => typing().includes(eve.user.id as UserId));
    expect(typing()).not.toContain(bob.user.id);

    // Bob's own presence still goes through: typing, then not.
    bob.conversation(group).setTyping(true);
    await until('ada sees bob typing', () => typing().includes(bob.user.id as UserId), typing);
    bob.conversation(group).setTyping(false);
    await until('ada sees bob stop', () => !typing().includes(bob.user.id as UserId), typing);
    expect(ada.online().get()).toContain(bob.user.id);
    expect((bobsPresence().awareness.getStates().get(bobsId!) as { user?: { id: string } }).user?.id).toBe(bob.user.id);
    socket.ws.close();
    await socket.closed;
    await stillChatting(bob, ada, group);
  });

  it('never leaks a connection slot when sockets close while they authenticate', async () => {
    const server = await startNode(await freshDatabase(backend));
    const { ada, eve, group } = await crew(server.url);
    const name = userDoc(eve.user.id as UserId);
    // 25 sockets that send their authentication and close at once.
    for (let i = 0; i < 25; i++) {
      const socket = rawSocket(server.url);
      await socket.opened;
      socket.ws.send(authFrame(name, eve.session.accessToken));
      socket.ws.close();
      await socket.closed;
    }
    // 19 more, open together, whose authentication reaches the node with their close (a stalled network).
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const through = `http://127.0.0.1:${proxy.port}`;
      const sockets = await Promise.all(
        Array.from({ length: 19 }, async () => {
          const socket = rawSocket(through);
          await socket.opened;
          return socket;
        }),
      );
      proxy.stall();
      for (const socket of sockets) {
        socket.ws.send(authFrame(name, eve.session.accessToken));
        socket.ws.close();
      }
      proxy.resume();
      await Promise.all(sockets.map((socket) => socket.closed));
    } finally {
      await proxy.close();
    }
    // Eve can still open connections: a new device and a raw one.
    const again = await attempt(server.url, name, eve.session.accessToken, () => {});
    expect(again).toEqual({ refused: false });
    const device = await OutpostClient.login({ url: server.url }, { username: eve.user.username, password: 'correct horse battery' });
    try {
      await until('eve’s new device syncs the group', () => device.conversation(group).synced());
      await stillChatting(device, ada, group);
    } finally {
      device.close();
    }
  });
});

/** An update of one reaction to `messageId` under each of `count` new client ids. */
function reactionsUnder(count: number, current: Y.Doc, messageId: MessageId, userId: UserId): Uint8Array {
  const updates: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(current));
    const before = Y.encodeStateVector(doc);
    writeReaction(doc, messageId, `e${crypto.randomUUID().slice(0, 8)}`, userId, Date.now());
    updates.push(Y.encodeStateAsUpdate(doc, before));
  }
  return Y.mergeUpdates(updates);
}
