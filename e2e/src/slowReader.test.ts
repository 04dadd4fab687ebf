// A client that does not read what the node sends: the node must not hold it all.
//
// Thirty bytes of sync step 1 ask for a segment's whole history (here ~300 KB); a socket that
// sends two hundred of them and never reads the answers made the node hold every answer in the
// socket's buffer (60 MB), and nothing bounded it. A member whose link stalls while the group
// talks adds up the same way, through broadcasts. Now the node stops reading a socket's requests
// while it holds more than SOCKET_SEND_PAUSE_BYTES for it, and closes a socket once it holds more
// than SOCKET_SEND_MAX_BYTES; the device reconnects when its link is back and syncs what it lacks.
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { segmentDoc, type ConversationId } from '@outpost/shared-schema';
import type { OutpostClient } from '@outpost/client';
import { startTcpProxy } from '@outpost/storage/testing';
import { authFrame, isSyncStep2, syncStep1Frame } from './attacker.ts';
import { freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

const METRICS_TOKEN = 'slow-reader-metrics-token';

/** A message of about `bytes` bytes. */
const report = (i: number, bytes: number) => `report ${i}: ${'field notes '.repeat(Math.ceil(bytes / 12))}`.slice(0, bytes);

async function metric(url: string, name: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

const shown = (client: OutpostClient, id: ConversationId) => history(client.conversation(id)).filter((l) => l.seq !== null).length;

/** Bob writes `count` messages of `bytes` into a DM with Ada; resolves once they are numbered. */
async function dmWithHistory(bob: OutpostClient, ada: OutpostClient, count: number, bytes: number): Promise<ConversationId> {
  const id = await bob.openDirect(ada.user.id);
  for (let i = 0; i < count; i++) bob.conversation(id).send(report(i, bytes));
  await until('bob’s messages are numbered', () => shown(bob, id) === count, () => shown(bob, id), 60_000);
  return id;
}

describe('a client that does not read', () => {
  it('asking for a long history again and again makes the node hold a few MB for it, and it gets every answer once it reads', async () => {
    const server = await startNode({ ...(await freshDatabase('sqlite')), env: { METRICS_TOKEN } });
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await dmWithHistory(bob, ada, 100, 3_000);
    const segment = segmentDoc(id, 0);

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/sync`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let answers = 0;
    ws.on('message', (data: RawData) => {
      if (isSyncStep2(new Uint8Array(data as Buffer), segment)) answers += 1;
    });
    ws.send(authFrame(segment, ada.session.accessToken));
    ws.send(syncStep1Frame(segment));
    await until('the segment is open', () => answers === 1, () => answers);
    // From here on nothing is read: what the node sends stays in its buffers.
    const reading = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    reading.pause();
    const asked = 200;
    for (let i = 0; i < asked; i++) ws.send(syncStep1Frame(segment));
    // Long enough for the node to answer all of them, had it read them.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const held = await metric(server.url, 'outpost_socket_send_buffer_bytes');
    // 300 KB an answer: 200 of them are 60 MB. Held: the pause mark (4 MiB) and an answer or two.
    expect(held).toBeGreaterThan(1024 * 1024);
    expect(held).toBeLessThan(6 * 1024 * 1024);

    reading.resume();
    await until('every request is answered once the client reads', () => answers === 1 + asked, () => answers, 60_000);
    expect(await metric(server.url, 'outpost_sockets_too_slow_total')).toBe(0);
    ws.close();
    // Nodes in this process share one metrics registry: the next test reads only its own.
    await server.close();
  }, 120_000);

  it('a device whose link stalls while the conversation goes on is let go past SOCKET_SEND_MAX_BYTES, and catches up when the link is back', async () => {
    const server = await startNode({ ...(await freshDatabase('sqlite')), env: { METRICS_TOKEN, SOCKET_SEND_PAUSE_BYTES: String(512 * 1024), SOCKET_SEND_MAX_BYTES: String(2 * 1024 * 1024) } });
    const network = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const bob = await signUp(server.url, 'bob');
      const ada = await signUp(`http://127.0.0.1:${network.port}`, 'ada');
      const id = await dmWithHistory(bob, ada, 1, 100);
      await until('ada has the conversation', () => shown(ada, id) === 1);

      network.stall();
      // ~16 MB: more than the kernel's buffers on both sides of the proxy hold, and the node's limit.
      const count = 180;
      for (let i = 0; i < count; i++) bob.conversation(id).send(report(i, 90_000));
      await until('bob’s messages are numbered', () => shown(bob, id) === count + 1, () => shown(bob, id), 120_000);
      await until('the node let ada’s socket go', async () => (await metric(server.url, 'outpost_sockets_too_slow_total')) >= 1, undefined, 60_000);
      expect(await metric(server.url, 'outpost_socket_send_buffer_bytes')).toBeLessThan(2 * 1024 * 1024);

      network.resume();
      await until('ada has every message once her link is back', () => shown(ada, id) === count + 1, () => shown(ada, id), 120_000);
    } finally {
      await network.close();
    }
  }, 300_000);
});
