// The fault proxy against a real TCP echo server: what it forwards, holds, cuts and refuses.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcpProxy.ts';

/** An echo server that also keeps its side of every connection, so tests can push from it. */
interface EchoServer {
  server: Server;
  port: number;
  sockets: Socket[];
}

async function startEcho(): Promise<EchoServer> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => socket.destroy()); // a reset from the proxy ends this connection
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** A client socket through the proxy that collects what it receives (writes wait for the connect). */
interface Peer {
  socket: Socket;
  received(): string;
  /** Resolves once the received text contains `text`. */
  receive(text: string): Promise<void>;
  closed: Promise<void>;
}

function connectTo(port: number): Peer {
  const socket = connect({ host: '127.0.0.1', port });
  let text = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    for (const wait of waiting.filter((w) => text.includes(w.text))) wait.resolve();
  });
  socket.on('error', () => socket.destroy()); // the tests look at 'close', which follows
  const closed = closeOf(socket);
  return {
    socket,
    received: () => text,
    receive: (expected) =>
      new Promise<void>((resolve) => {
        if (text.includes(expected)) resolve();
        else waiting.push({ text: expected, resolve });
      }),
    closed,
  };
}

/** Resolves when `socket` closes, whether after an error (a reset) or not. */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Lets the event loop run long enough for a forwarding proxy to have delivered a small write. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200));
}

let echo: EchoServer;
let proxy: TcpProxy;
const peers: Peer[] = [];

function peer(): Peer {
  const p = connectTo(proxy.port);
  peers.push(p);
  return p;
}

beforeEach(async () => {
  echo = await startEcho();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: echo.port });
});

afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  await proxy.close();
  for (const socket of echo.sockets) socket.destroy();
  await new Promise((resolve) => echo.server.close(resolve));
});

describe('TcpProxy', () => {
  it('forwards both ways and counts the connection', async () => {
    const a = peer();
    a.socket.write('hello');
    await a.receive('hello');
    expect(proxy.liveConnections).toBe(1);
    expect(proxy.totalConnections).toBe(1);
  });

  it('holds traffic in both directions while stalled and delivers it on resume', async () => {
    const a = peer();
    a.socket.write('before;');
    await a.receive('before;');
    const serverSide = echo.sockets[0];
    if (!serverSide) throw new Error('the echo server saw no connection');

    proxy.stall();
    a.socket.write('up;');
    serverSide.write('down;');
    await settle();
    expect(a.received()).toBe('before;');

    proxy.resume();
    await a.receive('down;');
    await a.receive('up;');
    expect(proxy.liveConnections).toBe(1);
  });

  it('stalls connections made while stalled, too', async () => {
    proxy.stall();
    const a = peer();
    a.socket.write('waiting');
    await settle();
    expect(a.received()).toBe('');
    proxy.resume();
    await a.receive('waiting');
  });

  it('stallOn stalls when a client sends the pattern, holding that chunk until resume', async () => {
    const a = peer();
    a.socket.write('first;');
    await a.receive('first;');
    const stalled = proxy.stallOn('SECRET');
    a.socket.write('here is the SECRET;');
    await stalled;
    await settle();
    expect(a.received()).toBe('first;');
    a.socket.write('later;');
    await settle();
    expect(a.received()).toBe('first;');
    proxy.resume();
    await a.receive('here is the SECRET;later;');
  });

  it('throttle trickles what the target sends at the rate given, and null lets it through at once', async () => {
    const a = peer();
    a.socket.write('warm');
    await a.receive('warm');
    proxy.throttle(2_000);
    const started = Date.now();
    echo.sockets[0]!.write('x'.repeat(1_000));
    await settle();
    // A fifth of a second at 2,000 bytes a second: about 400 of the 1,000 bytes, nowhere near all.
    expect(a.received().length - 'warm'.length).toBeLessThan(1_000);
    await a.receive('x'.repeat(1_000));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    proxy.throttle(null);
    echo.sockets[0]!.write('y'.repeat(100_000));
    await a.receive('y'.repeat(100_000));
    expect(() => proxy.throttle(0)).toThrow(/not a rate/);
    // And what clients send, when asked.
    proxy.throttle(null, 2_000);
    const up = Date.now();
    a.socket.write('z'.repeat(1_000));
    await a.receive('z'.repeat(1_000));
    expect(Date.now() - up).toBeGreaterThanOrEqual(400);
  });

  it('delay delivers both ways that much later, in order, and 0 at once again', async () => {
    const a = peer();
    a.socket.write('warm');
    await a.receive('warm');
    proxy.delay(300);
    const started = Date.now();
    for (const part of ['one ', 'two ', 'three']) a.socket.write(part);
    await settle();
    expect(a.received()).toBe('warm');
    await a.receive('one two three');
    // There and back again: at least two delays.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    proxy.delay(0);
    a.socket.write(' now');
    await a.receive('one two three now');
    expect(() => proxy.delay(-1)).toThrow(/not a delay/);
  });

  it('forsakeOpen silences the open connections for good, without a reset, and forwards new ones', async () => {
    const a = peer();
    a.socket.write('before');
    await a.receive('before');
    proxy.forsakeOpen();
    a.socket.write(' lost');
    echo.sockets[0]!.write(' also lost');
    const b = peer();
    b.socket.write('new one');
    await b.receive('new one');
    proxy.resume();
    await settle();
    expect(a.received()).toBe('before');
    expect(a.socket.destroyed).toBe(false);
  });

  it('cut closes both ends of every connection and still accepts new ones', async () => {
    const a = peer();
    const b = peer();
    a.socket.write('a');
    b.socket.write('b');
    await Promise.all([a.receive('a'), b.receive('b')]);
    const serverSides = echo.sockets.map(closeOf);

    proxy.cut();
    await Promise.all([a.closed, b.closed, ...serverSides]);
    expect(proxy.liveConnections).toBe(0);

    const c = peer();
    c.socket.write('again');
    await c.receive('again');
    expect(proxy.totalConnections).toBe(3);
  });

  it('refuse closes new connections at once, keeps open ones, and accept takes new ones again', async () => {
    const open = peer();
    open.socket.write('first;');
    await open.receive('first;');
    proxy.refuse();
    const refused = peer();
    refused.socket.write('never');
    await refused.closed;
    expect(refused.received()).toBe('');
    expect(echo.sockets).toHaveLength(1);

    open.socket.write('still here');
    await open.receive('still here');

    proxy.accept();
    const later = peer();
    later.socket.write('welcome');
    await later.receive('welcome');
    expect(proxy.totalConnections).toBe(2);
  });

  it('close ends every connection', async () => {
    const a = peer();
    a.socket.write('x');
    await a.receive('x');
    await proxy.close();
    await a.closed;
    expect(proxy.liveConnections).toBe(0);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: echo.port }); // for afterEach
  });

  it('rewrites a URL to go through it', () => {
    expect(proxy.urlThrough('postgres://postgres@db.example:5432/outpost?options=x')).toBe(
      `postgres://postgres@127.0.0.1:${proxy.port}/outpost?options=x`,
    );
    expect(proxy.urlThrough('redis://127.0.0.1:6379')).toBe(`redis://127.0.0.1:${proxy.port}`);
  });
});
