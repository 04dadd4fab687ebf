// socketFlow on real sockets: a ws server and a client on loopback whose reading the test stops.
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { roomToSend, socketFlow } from './socketFlow.ts';

const KIB = 1024;
const open: (() => void)[] = [];
afterEach(() => open.splice(0).forEach((close) => close()));

/** A server socket bounded by `bound`, and a client whose reading can be stopped. */
async function pair(bound: { pauseBytes: number; maxBytes: number }) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const tooSlow: number[] = [];
  const accepted = new Promise<{ ws: WebSocket; socket: Duplex; spend: (bytes: number) => void; read: () => number }>((resolve) =>
    wss.once('connection', (ws, request) => {
      const spend = socketFlow(ws, request.socket as Duplex, { outbound: bound, tooSlow: (bytes) => tooSlow.push(bytes) });
      let read = 0;
      ws.on('message', (data: Buffer) => {
        read += 1;
        spend(data.byteLength);
      });
      resolve({ ws, socket: request.socket as Duplex, spend, read: () => read });
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise((resolve) => client.once('open', resolve));
  const server = await accepted;
  open.push(() => {
    client.terminate();
    wss.close();
  });
  const clientSocket = (client as unknown as { _socket: Duplex })._socket;
  return { server, client, stopReading: () => clientSocket.pause(), readAgain: () => clientSocket.resume(), tooSlow };
}

const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`never: ${what}`);
};

describe('socketFlow', () => {
  it('while the client leaves more than pauseBytes unread, a sync answer waits, and a client that keeps sending is no longer read; both go on once it has read', async () => {
    const { server, client, stopReading, readAgain, tooSlow } = await pair({ pauseBytes: 64 * KIB, maxBytes: 64 * 1024 * KIB });
    stopReading();
    expect(roomToSend(server.ws)).toBeNull();
    // Far more than the kernel's buffers hold on loopback, so most of it waits in the socket.
    for (let i = 0; i < 64; i++) server.ws.send(new Uint8Array(256 * KIB));
    const room = roomToSend(server.ws);
    expect(room).not.toBeNull();
    let roomCame = false;
    void room?.then(() => (roomCame = true));
    // Every document of the socket may wait: one listener for them all (Node warns past ten).
    const drainListeners = server.socket.listenerCount('drain');
    const others = Array.from({ length: 20 }, () => roomToSend(server.ws));
    expect(server.socket.listenerCount('drain')).toBe(drainListeners);

    // An honest device sends a few frames meanwhile: they are read.
    for (let i = 0; i < 10; i++) client.send(new Uint8Array(30));
    await until('the few frames are read', () => server.read() === 10);
    expect(server.ws.isPaused).toBe(false);
    // A flood is read up to the limit (and the rest of the chunk read with it), then no more.
    for (let i = 0; i < 20_000; i++) client.send(new Uint8Array(30));
    await until('reading is paused', () => server.ws.isPaused);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.read()).toBeLessThan(5_000);
    expect(roomCame).toBe(false);

    readAgain();
    await until('the answer may go once the client has read', () => roomCame);
    await Promise.all(others);
    await until('everything sent is read', () => server.read() === 20_010);
    expect(server.ws.isPaused).toBe(false);
    expect(tooSlow).toEqual([]);
  });

  it('destroys the socket of a client that leaves more than maxBytes unread', async () => {
    const { server, client, stopReading, tooSlow } = await pair({ pauseBytes: 64 * KIB, maxBytes: 1024 * KIB });
    stopReading();
    const closed = new Promise<number>((resolve) => server.ws.once('close', resolve));
    for (let i = 0; i < 256 && server.ws.readyState === WebSocket.OPEN; i++) server.ws.send(new Uint8Array(64 * KIB));
    expect(await closed).toBe(1006);
    expect(tooSlow).toHaveLength(1);
    expect(tooSlow[0]).toBeGreaterThan(1024 * KIB);
    void client;
  });

  it('lets a socket go whose client sends but reads nothing while something waits for room', async () => {
    const { server, client, stopReading, tooSlow } = await pair({ pauseBytes: 64 * KIB, maxBytes: 64 * 1024 * KIB });
    stopReading();
    for (let i = 0; i < 64; i++) server.ws.send(new Uint8Array(256 * KIB));
    const closed = new Promise<number>((resolve) => server.ws.once('close', resolve));
    const room = roomToSend(server.ws, 300);
    expect(room).not.toBeNull();
    // It keeps talking (its presence, say), so nothing else would ever let it go.
    const talking = setInterval(() => client.send(new Uint8Array(30)), 50);
    try {
      await room;
      expect(await closed).toBe(1006);
      expect(tooSlow).toHaveLength(1);
    } finally {
      clearInterval(talking);
    }
  });
});
