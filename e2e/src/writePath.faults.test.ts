// Issue 8, faults under the write path: a database that stalls, a database that stops and comes
// back, a node killed (-9) while a server-owned document's write is in flight. Real Postgres
// (these faults are a network and a server process; SQLite has neither), a real TCP proxy in
// between, real processes. What the clients hear is recorded on the wire: a refusal must be one
// the SDK can read and retry, and in the end everything is numbered and every replica agrees.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutpostClient } from '@outpost/client';
import { decodeRefusal, readMeta, segmentDoc, serverDoc, serverMaps, type ConversationId, type UserId } from '@outpost/shared-schema';
import { openStorage } from '@outpost/storage';
import { startPostgres, startTcpProxy } from '@outpost/storage/testing';
import { openRaw } from './attacker.ts';
import { freshDatabase, signUp, spawnNode, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';
import { listeningWebSocket, type HeardRefusal } from './refusalLog.ts';

afterAll(teardown);

/** Short deadlines on Postgres, so a stall is answered in seconds rather than the default 35 s. */
const SHORT_DEADLINES = { DATABASE_CONNECT_TIMEOUT_MS: '1000', DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_QUERY_TIMEOUT_MS: '2000' };

async function listened(url: string, name: string): Promise<{ client: OutpostClient; heard: HeardRefusal[] }> {
  const { WebSocket, refusals } = listeningWebSocket();
  return { client: await signUp(url, name, { WebSocket }), heard: refusals };
}

/** True once `heard` holds a refusal of `docName` that the SDK reads as "retry". */
const toldToRetry = (heard: HeardRefusal[], docName: string) => heard.some((h) => h.docName === docName && decodeRefusal(h.reason)?.code === 'retry');

/** Every refusal heard is one the SDK can read, and says "retry". */
function allRetryable(heard: HeardRefusal[]): void {
  for (const { docName, reason } of heard) expect(decodeRefusal(reason), `${docName}: ${reason}`).toMatchObject({ code: 'retry', retryAfterMs: expect.any(Number) });
}

async function converged(clients: OutpostClient[], id: ConversationId, count: number): Promise<void> {
  for (const client of clients) {
    await until(
      'every message is numbered 1..N and the replicas agree',
      () => {
        const lines = history(client.conversation(id));
        return lines.length === count && numberedOneToN(lines) && JSON.stringify(lines) === JSON.stringify(history(clients[0]!.conversation(id)));
      },
      () => history(client.conversation(id)).map((l) => [l.seq, l.body]),
      60_000,
    );
  }
}

describe('faults on postgres', () => {
  it('refuses updates as retryable while the database stalls, and numbers them once it is back', async () => {
    const { dataDir, databaseUrl } = await freshDatabase('postgres');
    const target = new URL(databaseUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    try {
      const server = await startNode({ dataDir, databaseUrl: proxy.urlThrough(databaseUrl!), env: SHORT_DEADLINES });
      const ada = await listened(server.url, 'ada');
      const bob = await listened(server.url, 'bob');
      const id = await ada.client.openDirect(bob.client.user.id);
      const [a, b] = [ada.client.conversation(id), bob.client.conversation(id)];
      a.send('before the stall');
      await until('numbered at bob', () => history(b)[0]?.seq === 1);

      proxy.stall();
      for (const body of ['during 1', 'during 2']) a.send(body);
      b.send('during, from bob'); // the same document, behind ada's stalled commit
      const segment = segmentDoc(id, 0);
      await until('both are told to retry, within the deadlines', () => toldToRetry(ada.heard, segment) && toldToRetry(bob.heard, segment), () => [ada.heard, bob.heard]);
      for (const client of [ada.client, bob.client]) expect(client.failures().filter((f) => f.stopped)).toEqual([]);

      proxy.resume();
      await converged([ada.client, bob.client], id, 4);
      allRetryable([...ada.heard, ...bob.heard]);
      await until('the failures are forgotten once synced again', () => ada.client.failures().length === 0 && bob.client.failures().length === 0, () => [ada.client.failures(), bob.client.failures()]);
      const after = a.send('after the stall');
      await until('and the next one is numbered at once', () => history(b).find((l) => l.id === after)?.seq === 5);
    } finally {
      proxy.resume();
      await proxy.close();
    }
  }, 120_000);

  it('answers a storage error during an update with a retryable refusal, and numbers it after Postgres restarts', async () => {
    const postgres = await startPostgres();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-e2e-'));
    const server = await startNode({ dataDir, databaseUrl: await postgres.createDatabase(), env: SHORT_DEADLINES });
    try {
      const ada = await listened(server.url, 'ada');
      const bob = await listened(server.url, 'bob');
      const id = await ada.client.openDirect(bob.client.user.id);
      const [a, b] = [ada.client.conversation(id), bob.client.conversation(id)];
      a.send('before the restart');
      await until('numbered at bob', () => history(b)[0]?.seq === 1);

      await postgres.shutDown();
      for (const body of ['while Postgres is down 1', 'while Postgres is down 2']) a.send(body);
      await until('ada is told to retry', () => toldToRetry(ada.heard, segmentDoc(id, 0)), () => ada.heard);
      expect(ada.client.failures().filter((f) => f.stopped)).toEqual([]);

      await postgres.restart();
      await converged([ada.client, bob.client], id, 3);
      allRetryable(ada.heard);
      await until('the failure is forgotten', () => ada.client.failures().length === 0, () => ada.client.failures());
      expect(a.synced()).toBe(true);
    } finally {
      await server.close();
      await postgres.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a node started while Postgres is down waits for it, then serves; past DATABASE_START_WAIT_MS it says why it gave up', async () => {
    const postgres = await startPostgres();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-e2e-'));
    try {
      const databaseUrl = await postgres.createDatabase();
      await postgres.shutDown();
      // Nobody answers for longer than it waits: it ends with what to do, not a stack trace.
      const gaveUp = await spawnNode({ dataDir, databaseUrl, env: { ...SHORT_DEADLINES, DATABASE_START_WAIT_MS: '800' } }).catch((error: unknown) => error as Error);
      expect(gaveUp).toBeInstanceOf(Error);
      expect((gaveUp as Error).message).toMatch(/node exited with 1 before listening/);
      expect((gaveUp as Error).message).toMatch(/outpost: the database at 127\.0\.0\.1:\d+ did not answer for \d+ s \(ECONNREFUSED\): check DATABASE_URL/);
      expect((gaveUp as Error).message).not.toMatch(/at async|\.ts:\d+/);

      // Postgres comes back while the node waits: it starts, and serves.
      const starting = spawnNode({ dataDir, databaseUrl, env: SHORT_DEADLINES });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await postgres.restart();
      const node = await starting;
      const ada = await signUp(node.url, 'ada');
      const bob = await signUp(node.url, 'bob');
      const id = await ada.openDirect(bob.user.id);
      ada.conversation(id).send('the node waited for its database');
      await until('numbered at bob', () => history(bob.conversation(id))[0]?.seq === 1);
      await node.kill();
    } finally {
      await postgres.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('loses nobody’s copy when a node is killed while a server document’s write is in flight', async () => {
    const { dataDir, databaseUrl } = await freshDatabase('postgres');
    const target = new URL(databaseUrl!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const direct = await openStorage({ databaseUrl: databaseUrl!, dataDir });
    try {
      const node = await spawnNode({ dataDir, databaseUrl: proxy.urlThrough(databaseUrl!) });
      const ada = await listened(node.url, 'ada');
      const bob = await listened(node.url, 'bob');
      const group = await ada.client.createGroup('crew', [bob.client.user.id]);
      const [a, b] = [ada.client.conversation(group), bob.client.conversation(group)];
      a.send('read me');
      await until('bob has it numbered and both are synced', () => history(b)[0]?.seq === 1 && a.synced() && b.synced());

      // Bob reads it: his read position is committed, and the group's server document follows it
      // (receipts) in a write of its own. That write's statements are held on the wire, so its
      // commit cannot finish; the node is killed right then.
      const stalled = proxy.stallOn(serverDoc(group));
      b.markRead();
      await Promise.race([stalled, new Promise((_, reject) => setTimeout(() => reject(new Error('the server document was never written')), 20_000))]);
      await node.kill();
      // Meanwhile another node (here: the test, on the same database) renames the group.
      await direct.conversations.setTitle(group, 'renamed while the node was down', ada.client.user.id as UserId, Date.now());
      proxy.resume();
      await node.restart();

      // The clients reconnect on their own and every copy of the server document agrees.
      const expected = { title: 'renamed while the node was down', bobRead: 1 };
      for (const client of [a, b]) {
        await until(
          'the client shows the title and bob’s receipt the tables hold',
          () => client.meta().get()?.title === expected.title && client.receipts().get().find((r) => r.userId === bob.client.user.id)?.read === expected.bobRead,
          () => [client.meta().get()?.title, client.receipts().get()],
        );
      }
      expect((await direct.projection.getReadPositions(group)).get(bob.client.user.id as UserId)).toBe(1);
      const fresh = await openRaw(node.url, serverDoc(group), ada.client.session.accessToken);
      expect(readMeta(fresh.doc)?.title).toBe(expected.title);
      expect(serverMaps(fresh.doc).receipts.get(bob.client.user.id)).toMatchObject({ read: 1 });
      fresh.close();

      const after = b.send('back');
      await until('numbered after the restart', () => history(a).find((l) => l.id === after)?.seq === 2, () => [history(a), ada.heard, bob.heard]);
      expect(ada.client.failures()).toEqual([]);
      expect(bob.client.failures()).toEqual([]);
      expect([...ada.heard, ...bob.heard]).toEqual([]);
    } finally {
      proxy.resume();
      await direct.close();
      await proxy.close();
    }
  }, 120_000);
});
