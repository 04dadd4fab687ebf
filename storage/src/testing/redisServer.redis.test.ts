// The throwaway Redis server: it answers, empties on demand, and goes away and comes back on its
// port, so tests can take Redis down under running nodes.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './redisServer.ts';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis.stop();
});

/** Sends one inline command over a raw socket and returns the first line of the reply. */
function send(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (!reply.includes('\r\n')) return;
      socket.end();
      resolve(reply.slice(0, reply.indexOf('\r\n')));
    });
    socket.write(`${line}\r\n`);
  });
}

describe('a throwaway Redis server', () => {
  it('answers PING on the port its URL names, and flushAll() empties it', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await send(redis.port, 'PING')).toBe('+PONG');
    expect(await send(redis.port, 'SET greeting hello')).toBe('+OK');
    expect(await send(redis.port, 'GET greeting')).toBe('$5');
    await redis.flushAll();
    expect(await send(redis.port, 'GET greeting')).toBe('$-1');
  });

  it('refuses connections once stopped and comes back, empty, on the same port', async () => {
    const port = redis.port;
    expect(await send(port, 'SET kept no')).toBe('+OK');
    await redis.stop();
    await expect(send(port, 'PING')).rejects.toThrow(/ECONNREFUSED/);

    await redis.restart();
    expect(redis.port).toBe(port);
    expect(await send(port, 'PING')).toBe('+PONG');
    expect(await send(port, 'GET kept')).toBe('$-1');
  });

  it('dies at once on kill() and comes back on the same port', async () => {
    const port = redis.port;
    await redis.kill();
    await expect(send(port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
    await redis.restart();
    expect(await send(port, 'PING')).toBe('+PONG');
  });

  it('names the missing binary and its package instead of skipping', async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), 'outpost-no-redis-'));
    const path = process.env.PATH;
    process.env.PATH = emptyDir;
    try {
      await expect(startRedis()).rejects.toThrow(/redis-server not found on PATH.*apt-get install -y redis-server/);
    } finally {
      process.env.PATH = path;
      await rm(emptyDir, { recursive: true });
    }
  });
});
