// Rate limits shared through a real redis-server: a flood spread over two nodes is one flood,
// and each node falls back to counting on its own while Redis is away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@outpost/storage/testing';
import { RateLimiter } from './rateLimiter.ts';

let redis: RedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis.stop();
});

/** A node's Redis connection, configured as the server's (fail fast, never queue). */
async function connection(): Promise<Redis> {
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

describe('rate limits shared through Redis', () => {
  it('count one flood across two nodes, and say when to retry', async () => {
    const policy = { capacity: 5, perSecond: 1 };
    const nodeA = new RateLimiter('shared test', policy, await connection());
    const nodeB = new RateLimiter('shared test', policy, await connection());
    for (let i = 0; i < 3; i++) await nodeA.take('ada');
    await nodeB.take('ada');
    await nodeB.take('ada');
    await expect(nodeA.take('ada')).rejects.toMatchObject({ kind: 'rateLimited', details: { retryAfterMs: expect.any(Number) } });
    await expect(nodeB.take('ada')).rejects.toMatchObject({ kind: 'rateLimited' });
    await nodeA.take('bob'); // others are not affected
  });

  it('fall back to a per-node limit while Redis is away', async () => {
    const policy = { capacity: 3, perSecond: 1 };
    const node = new RateLimiter('fallback test', policy, await connection());
    await redis.kill();
    try {
      for (let i = 0; i < 3; i++) await node.take('cyd');
      await expect(node.take('cyd')).rejects.toMatchObject({ kind: 'rateLimited' });
    } finally {
      await redis.restart();
    }
  });
});
