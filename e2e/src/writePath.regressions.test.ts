// Issue 8, honest people: work the SDK really produces — offline, across restarts, racing a
// reconnect — is accepted by the real server and converges. "Accepted" is heard on the wire:
// each client's socket records every refusal, since the SDK recovers from most of them
// without leaving a trace in failures().
import { afterAll, describe, expect, it } from 'vitest';
import type { Conversation, OutpostClient } from '@outpost/client';
import { segmentDoc, segmentMaps, userDoc, writeEdit, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import { startTcpProxy } from '@outpost/storage/testing';
import type { OutpostServer } from '@outpost/sync-server';
import * as Y from 'yjs';
import { attempt } from './attacker.ts';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until, type Backend } from './harness.ts';
import { history, numberedOneToN } from './history.ts';
import { browserProfile, closeReplicaClients, startOnReplica, type ReplicaClient } from './offlineReplica.ts';
import { listeningWebSocket, type HeardRefusal } from './refusalLog.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

/** A signed-up user whose socket records every refusal the server sends. */
interface Person {
  client: OutpostClient;
  heard: HeardRefusal[];
  WebSocket: typeof globalThis.WebSocket;
}

async function person(url: string, name: string): Promise<Person> {
  const { WebSocket, refusals } = listeningWebSocket();
  return { client: await signUp(url, name, { WebSocket }), heard: refusals, WebSocket };
}

/** `person` on a replica that survives restarts (close, then `restart`). */
interface ReplicaPerson extends Person {
  app(): ReplicaClient;
  /** Closes the app (its replica stays) and starts it again, online. */
  restart(): Promise<OutpostClient>;
}

async function replicaPerson(url: string, name: string): Promise<ReplicaPerson> {
  const signedUp = await person(url, name);
  const profile = browserProfile();
  const session = signedUp.client.session;
  signedUp.client.close();
  let app = await startOnReplica(url, session, profile, { WebSocket: signedUp.WebSocket });
  const self = {
    ...signedUp,
    client: app.client,
    app: () => app,
    async restart() {
      const latest = app.client.session;
      await app.client.stored();
      app.close();
      app = await startOnReplica(url, latest, profile, { WebSocket: signedUp.WebSocket });
      self.client = app.client;
      return app.client;
    },
  };
  return self;
}

const line = (c: Conversation, id: string) => history(c).find((l) => l.id === id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Edits `m` three times, toggles a reaction on `t` three times, marks read three times. */
function threeOfEach(c: Conversation, m: MessageId, t: MessageId, round: string): void {
  for (let i = 1; i <= 3; i++) c.edit(m, `${round} edit ${i}`);
  c.react(t, '👍');
  c.unreact(t, '👍');
  c.react(t, '👍');
  for (const seq of [2, 3, 4]) c.markRead(seq);
}

/** Nothing refused, nothing failed, and the two keep chatting. */
async function stillChatting(server: OutpostServer, id: ConversationId, from: Person, to: Person): Promise<void> {
  expect(from.heard).toEqual([]);
  expect(to.heard).toEqual([]);
  expect(from.client.failures()).toEqual([]);
  expect(to.client.failures()).toEqual([]);
  const next = from.client.conversation(id).send(`still here ${Math.random()}`);
  await until('the next message arrives numbered', () => line(to.client.conversation(id), next)?.seq != null);
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
}

describe.each(backends)('honest work on %s', (backend: Backend) => {
  async function dm() {
    const server = await startNode(await freshDatabase(backend));
    const ada = await person(server.url, 'ada');
    const bob = await person(server.url, 'bob');
    const id = await ada.client.openDirect(bob.client.user.id);
    return { server, ada, bob, id };
  }

  /** The same, with ada on a replica that survives restarts. */
  async function dmOnReplica() {
    const server = await startNode(await freshDatabase(backend));
    const ada = await replicaPerson(server.url, 'ada');
    const bob = await person(server.url, 'bob');
    const id = await ada.client.openDirect(bob.client.user.id);
    return { server, ada, bob, id };
  }

  /** ada's message m (seq 1) and bob's three (2..4), all numbered at ada. */
  async function fourMessages(ada: Person, bob: Person, id: ConversationId) {
    const m = ada.client.conversation(id).send('draft');
    await until('ada’s message is numbered', () => line(ada.client.conversation(id), m)?.seq === 1);
    const t = bob.client.conversation(id).send('one');
    for (const body of ['two', 'three']) bob.client.conversation(id).send(body);
    await until('all four are numbered at ada', () => history(ada.client.conversation(id)).length === 4 && numberedOneToN(history(ada.client.conversation(id))));
    return { m, t };
  }

  async function threeOfEachArrived(server: OutpostServer, ada: Person, bob: Person, id: ConversationId, m: MessageId, t: MessageId, round: string) {
    const b = bob.client.conversation(id);
    await until(
      'bob sees the last edit and ada’s reaction',
      () => line(b, m)?.body === `${round} edit 3` && line(b, m)?.edited === true && line(b, t)?.reactions === `👍:${ada.client.user.id}`,
      () => [history(b), ada.heard, ada.client.failures()],
    );
    await until('the projection holds the last edit', async () => (await server.storage.projection.getMessage(id, m))?.body === `${round} edit 3`);
    await until('the server has ada’s read position', async () => (await server.storage.projection.getReadPositions(id)).get(ada.client.user.id as UserId) === 4);
  }

  it('accepts three offline edits of a message, three reaction toggles and three read marks, sent on reconnect', async () => {
    const { server, ada, bob, id } = await dm();
    const { m, t } = await fourMessages(ada, bob, id);
    ada.client.disconnect();
    threeOfEach(ada.client.conversation(id), m, t, 'offline');
    ada.client.connect();
    await threeOfEachArrived(server, ada, bob, id, m, t, 'offline');
    await stillChatting(server, id, ada, bob);
  });

  it('accepts them when the app restarts before it is online again (one sync step, merged runs)', async () => {
    const { server, ada, bob, id } = await dmOnReplica();
    const { m, t } = await fourMessages(ada, bob, id);
    ada.client.disconnect();
    threeOfEach(ada.client.conversation(id), m, t, 'restart');
    await ada.restart();
    await threeOfEachArrived(server, ada, bob, id, m, t, 'restart');
    await stillChatting(server, id, ada, bob);
  });

  it('accepts one map key set three times in one transaction, in a segment and in the user document', async () => {
    const { server, ada, bob, id } = await dm();
    const { m } = await fourMessages(ada, bob, id);
    const token = ada.client.session.accessToken;
    const edits = await attempt(server.url, segmentDoc(id, 0), token, (d) => d.transact(() => [1, 2, 3].forEach((i) => writeEdit(d, m, { body: `one transaction ${i}`, editedAt: Date.now() + i }))));
    expect(edits).toEqual({ refused: false });
    const reads = await attempt(server.url, userDoc(ada.client.user.id as UserId), token, (d) => d.transact(() => [2, 3, 4].forEach((seq) => d.getMap('reads').set(`${id}/${ada.client.deviceId}`, seq))));
    expect(reads).toEqual({ refused: false });
    await until('bob sees the last of the three', () => line(bob.client.conversation(id), m)?.body === 'one transaction 3');
    await until('the server has the read position', async () => (await server.storage.projection.getReadPositions(id)).get(ada.client.user.id as UserId) === 4);
    await stillChatting(server, id, ada, bob);
  });

  it('accepts changes made 0–60 ms after reconnecting that build on offline changes (restart, slow network)', async () => {
    const server = await startNode(await freshDatabase(backend));
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const ada = await replicaPerson(`http://127.0.0.1:${proxy.port}`, 'ada');
      const bob = await person(server.url, 'bob');
      const id = await ada.client.openDirect(bob.client.user.id);
      const first = ada.client.conversation(id).send('before');
      await until('numbered, and the conversation is in ada’s list', () => line(ada.client.conversation(id), first)?.seq === 1 && ada.client.conversations().get().length === 1);
      const rounds: { m: MessageId; d: MessageId; delayMs: number }[] = [];
      for (const delayMs of [0, 20, 40, 60]) {
        // Offline: a message m, an edit of it, a message d; then the app restarts.
        let c = ada.client.conversation(id);
        ada.client.disconnect();
        const m = c.send(`offline ${delayMs}`);
        c.edit(m, `offline edit ${delayMs}`);
        const d = c.send(`to delete ${delayMs}`);
        const client = await ada.restart();
        // A slow network: once the socket is back, what the node says next takes a while.
        await new Promise<void>((resolve) => {
          const stop = client.status().subscribe((status) => {
            if (status !== 'connected') return;
            proxy.stall();
            queueMicrotask(() => stop());
            resolve();
          });
        });
        c = client.conversation(id);
        await until('the replica shows the offline messages', () => line(c, m) !== undefined && line(c, d) !== undefined);
        await sleep(delayMs); // not a wait for a result: the user acts this long after the socket is back
        c.react(m, '🔥'); // for a message the node has not seen yet
        c.delete(d); // the same
        c.edit(m, `online edit ${delayMs}`); // its origin is the offline edit
        proxy.resume();
        await until('ada’s round is acknowledged', () => client.outbox().get().length === 0, () => [client.outbox().get(), ada.heard]);
        rounds.push({ m, d, delayMs });
      }
      const b = bob.client.conversation(id);
      await until(
        'bob sees every round: edited, reacted, deleted, all numbered',
        () =>
          numberedOneToN(history(b)) &&
          rounds.every(({ m, d, delayMs }) => line(b, m)?.body === `online edit ${delayMs}` && line(b, m)?.reactions === `🔥:${ada.client.user.id}` && line(b, d)?.deleted === true),
        () => [history(b), ada.heard],
      );
      await until('the projection holds every online edit', async () => {
        const stored = await Promise.all(rounds.map(({ m }) => server.storage.projection.getMessage(id, m)));
        return rounds.every(({ delayMs }, i) => stored[i]?.body === `online edit ${delayMs}`);
      });
      await stillChatting(server, id, ada, bob);
    } finally {
      await proxy.close();
    }
  });

  it('accepts them while a connection attempt hangs after a restart (a stalled network between app and node)', async () => {
    const server = await startNode(await freshDatabase(backend));
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const ada = await replicaPerson(`http://127.0.0.1:${proxy.port}`, 'ada');
      const bob = await person(server.url, 'bob');
      const id = await ada.client.openDirect(bob.client.user.id);
      const first = ada.client.conversation(id).send('before');
      await until('numbered', () => line(ada.client.conversation(id), first)?.seq === 1);

      // Offline: a message, an edit of it, a message to delete. Then the app restarts while the
      // network hangs, and the user goes on from what the replica shows.
      let a = ada.client.conversation(id);
      ada.client.disconnect();
      const m = a.send('offline');
      a.edit(m, 'offline edit');
      const d = a.send('offline, to delete');
      proxy.stall();
      const restarted = await ada.restart();
      await restarted.loaded();
      await until('a connection attempt hangs', () => proxy.liveConnections > 0 && restarted.status().get() === 'connecting');
      a = restarted.conversation(id);
      // The user acts on what the replica shows: the conversation's segments load as it opens.
      await until('the replica shows the offline messages', () => line(a, m) !== undefined && line(a, d) !== undefined);
      a.react(m, '🔥'); // for a message the server has not seen yet
      a.delete(d); // the same
      a.edit(m, 'edited while connecting'); // its origin is the offline edit
      proxy.resume();

      const b = bob.client.conversation(id);
      await until(
        'bob sees it all',
        () => line(b, m)?.body === 'edited while connecting' && line(b, m)?.reactions === `🔥:${ada.client.user.id}` && line(b, d)?.deleted === true && numberedOneToN(history(b)),
        () => [history(b), ada.heard],
      );
      await stillChatting(server, id, ada, bob);
    } finally {
      await proxy.close();
    }
  });

  it('lets a group owner delete a member’s edited message, and numbers the owner’s later messages, also after a restart', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await replicaPerson(server.url, 'ada');
    const bob = await person(server.url, 'bob');
    const group = await ada.client.createGroup('crew', [bob.client.user.id]);
    const b = bob.client.conversation(group);
    const m = b.send('bob’s words');
    await until('numbered at bob', () => line(b, m)?.seq === 1);
    b.edit(m, 'bob’s words, edited');
    await until('ada sees bob’s edit', () => line(ada.client.conversation(group), m)?.body === 'bob’s words, edited');

    ada.client.conversation(group).delete(m);
    const after = ada.client.conversation(group).send('deleted that');
    await until('bob sees the deletion and ada’s message numbered', () => line(b, m)?.deleted === true && line(b, after)?.seq === 2, () => [history(b), ada.heard]);
    await until('the projection keeps no text', async () => {
      const stored = await server.storage.projection.getMessage(group, m);
      return stored?.deletedAt != null && stored.body === '';
    });

    const restarted = await ada.restart();
    const later = restarted.conversation(group).send('after a restart');
    await until('numbered after the restart', () => line(b, later)?.seq === 3, () => [history(b), ada.heard, restarted.failures()]);
    await stillChatting(server, group, ada, bob);
  });

  it('re-syncs a refused user document after a restart and keeps sending read positions', async () => {
    const { server, ada, bob, id } = await dmOnReplica();
    const b = bob.client.conversation(id);
    for (const body of ['one', 'two']) b.send(body);
    await until('ada has both', () => history(ada.client.conversation(id)).filter((l) => l.seq !== null).length === 2);
    // Something the server refuses in the stored user document (another device's read position,
    // as an older app might have left it): the restart sends it with the sync step.
    await ada.app().client.stored();
    const stored = ada.app().replica;
    const bad = new Y.Doc();
    bad.getMap('reads').set(`${id}/${crypto.randomUUID()}`, 1);
    await stored.append(userDoc(ada.client.user.id as UserId), Y.encodeStateAsUpdate(bad));
    const restarted = await ada.restart();
    await until('the server refused the user document', () => ada.heard.some((h) => h.docName === userDoc(ada.client.user.id as UserId) && /^forbidden\[ruleBroken\]/.test(h.reason)));

    for (const round of [3, 4]) {
      b.send(`message ${round}`);
      const a = ada.client.conversation(id);
      await until('ada has it numbered', () => a.lastSeq() === round);
      a.markRead();
      await until(
        `read position ${round} reaches the server`,
        async () => (await server.storage.projection.getReadPositions(id)).get(ada.client.user.id as UserId) === round,
        () => ada.client.failures(),
      );
      // Recovered, nothing lost: no failure is left to show.
      await until('the failure is forgotten', () => ada.client.failures().length === 0, () => ada.client.failures());
      if (round === 3) {
        expect(ada.client).toBe(restarted);
        await ada.restart();
      }
    }
    expect(ada.heard.filter((h) => h.docName !== userDoc(ada.client.user.id as UserId))).toEqual([]);
  });

  it('keeps the projection on the edit every replica shows when two devices of one user edit at once', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await person(server.url, 'ada');
    const bob = await person(server.url, 'bob');
    const id = await ada.client.openDirect(bob.client.user.id);
    const phone = await secondDevice(server.url, ada.client, { WebSocket: ada.WebSocket });
    const m = ada.client.conversation(id).send('first words');
    await until('the phone has it numbered', () => line(phone.conversation(id), m)?.seq === 1);
    const segment = () => server.hocuspocus.documents.get(segmentDoc(id, 0));

    // Both orders of arrival: in one of them the edit Yjs keeps is not the last to arrive.
    const orders: [OutpostClient, OutpostClient][] = [
      [ada.client, phone],
      [phone, ada.client],
    ];
    for (const [round, [early, late]] of orders.entries()) {
      early.disconnect();
      late.disconnect();
      early.conversation(id).edit(m, `round ${round}: early`);
      late.conversation(id).edit(m, `round ${round}: late`);
      early.connect();
      await until('the server has the early edit', () => segment() !== undefined && segmentMaps(segment()!).edits.get(m)?.body === `round ${round}: early`);
      late.connect();
      await until('the late edit reached the server', () => late.outbox().get().length === 0 && !late.hasUnsyncedChanges);
      const replicas = [ada.client, phone, bob.client];
      await until(
        'every replica shows the edit the server’s document holds',
        () => sameBody(replicas, id, m, segmentMaps(segment()!).edits.get(m)?.body),
        () => replicas.map((c) => line(c.conversation(id), m)?.body),
      );
      const shown = line(bob.client.conversation(id), m)?.body;
      await until('the projection keeps the edit the replicas show', async () => (await server.storage.projection.getMessage(id, m))?.body === shown, () => shown);
      await until('the list preview shows it too', () => bob.client.conversations().get().find((c) => c.id === id)?.lastMessage?.preview === shown);
    }
    expect(ada.heard).toEqual([]);
    expect(bob.heard).toEqual([]);
  });
});

/** True when every client shows `body` for `m`. */
function sameBody(clients: OutpostClient[], id: ConversationId, m: MessageId, body: string | undefined): boolean {
  return body !== undefined && clients.every((c) => line(c.conversation(id), m)?.body === body);
}
