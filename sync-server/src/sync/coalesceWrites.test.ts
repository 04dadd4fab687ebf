// Frames sent to a socket in one turn leave in one write, in order; frames of later turns still
// leave (the socket is uncorked after each turn). A real ws server and client on loopback; the
// writes are counted where the socket hands them to the kernel (_write/_writev).
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { coalesceWrites } from './coalesceWrites.ts';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const item of open.splice(0)) item.close();
});

/** A server socket with coalesced writes, the client at its other end, and the server socket's write calls. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; received: string[]; writes: () => number }> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  let writes = 0;
  const accepted = new Promise<WebSocket>((resolve) => {
    http.on('upgrade', (request, socket, head) => {
      const raw = socket as Socket & { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
      const write = raw._write.bind(raw);
      const writev = raw._writev.bind(raw);
      raw._write = (...args) => {
        writes += 1;
        write(...args);
      };
      raw._writev = (...args) => {
        writes += 1;
        writev(...args);
      };
      wss.handleUpgrade(request, socket, head, (ws) => {
        coalesceWrites(ws, socket);
        resolve(ws);
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => http.close() }, { close: () => wss.close() });
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  open.push({ close: () => client.terminate() });
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await new Promise((resolve) => client.once('open', resolve));
  const server = await accepted;
  open.push({ close: () => server.terminate() });
  return { server, client, received, writes: () => writes };
}

const until = async (done: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(done()).toBe(true);
};

describe('coalesceWrites', () => {
  it('sends the frames of one turn in one write, in order', async () => {
    const { server, received, writes } = await pair();
    const before = writes();
    server.send('ack');
    server.send('entry');
    server.send(new Uint8Array([1, 2, 3]));
    // Nothing has left yet: the socket is corked until the turn's sends are done.
    expect(writes()).toBe(before);
    await until(() => received.length === 3);
    expect(received).toEqual(['ack', 'entry', '\u0001\u0002\u0003']);
    expect(writes() - before).toBe(1);
  });

  it('still sends the frames of later turns, each turn in one write', async () => {
    const { server, received, writes } = await pair();
    const before = writes();
    for (let turn = 0; turn < 4; turn++) {
      server.send(`a${turn}`);
      server.send(`b${turn}`);
      await until(() => received.length === 2 * (turn + 1));
    }
    expect(received).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
    expect(writes() - before).toBe(4);
  });

  it('sends nothing and fails nothing once the socket is gone', async () => {
    const { server, client } = await pair();
    const closed = new Promise((resolve) => server.once('close', resolve));
    client.terminate();
    await closed;
    const errors: unknown[] = [];
    server.send('late', (error) => errors.push(error));
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(1);
  });
});
