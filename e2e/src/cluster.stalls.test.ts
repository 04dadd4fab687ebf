// Two nodes whose Redis goes silent: not down (its connections stay open, nothing says they
// failed) but answering nothing, as a stalled network or a Redis stuck on a slow disk would. A
// TCP proxy between the nodes and Redis holds everything. Redis only ever speeds things up
// (docs/architecture.md): while it is silent each node goes on numbering and delivering what its
// own clients write, sign-ins and searches still answer, and once it speaks again both nodes
// deliver across and everyone converges.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutpostClient } from '@outpost/client';
import type { ConversationId } from '@outpost/shared-schema';
import { startPostgres, startRedis, startTcpProxy, type PostgresServer, type RedisServer, type TcpProxy } from '@outpost/storage/testing';
import { signUp, spawnNode, teardown, until, type SpawnedNode } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

let postgres: PostgresServer;
let redis: RedisServer;
let redisNetwork: TcpProxy;
let nodes: SpawnedNode[];
let dataDir: string;

beforeAll(async () => {
  postgres = await startPostgres();
  redis = await startRedis();
  const target = new URL(redis.url);
  redisNetwork = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-stalls-'));
  const databaseUrl = await postgres.createDatabase();
  const signingKey = randomBytes(32).toString('base64');
  nodes = [];
  for (let i = 0; i < 2; i++) {
    nodes.push(await spawnNode({ dataDir: path.join(dataDir, `node-${i}`), databaseUrl, redisUrl: redisNetwork.urlThrough(redis.url), signingKey }));
  }
}, 120_000);

afterAll(async () => {
  redisNetwork?.resume();
  for (const node of nodes ?? []) await node.kill();
  await redisNetwork?.close();
  await redis?.stop();
  await postgres?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Two people on node 0 and one on node 1, in one group. */
async function crew(): Promise<{ here: OutpostClient[]; there: OutpostClient; group: ConversationId }> {
  const here = [await signUp(nodes[0]!.url, 'ada'), await signUp(nodes[0]!.url, 'bob')];
  const there = await signUp(nodes[1]!.url, 'cyd');
  const group = await here[0]!.createGroup('crew', [here[1]!.user.id, there.user.id]);
  await until('everyone has the group', () => [...here, there].every((p) => p.conversation(group).meta().get()?.kind === 'group' && p.conversation(group).synced()));
  return { here, there, group };
}

describe('two nodes whose Redis goes silent', () => {
  it('each node goes on serving its own clients, and everyone converges once Redis answers again', async () => {
    const { here, there, group } = await crew();
    here[0]!.conversation(group).send('before the silence');
    await until('everyone has the first message', () => [...here, there].every((p) => history(p.conversation(group))[0]?.seq === 1));

    redisNetwork.stall();
    try {
      // Same node: written, numbered and delivered, though every shared rate limit and every
      // notice to the other node now waits on a Redis that says nothing.
      const [ada, bob] = here.map((p) => p.conversation(group));
      ada!.send('while Redis is silent, from node 0');
      await until(
        'numbered, and delivered to a member on the same node, while Redis is silent',
        () => history(bob!).some((l) => l.body === 'while Redis is silent, from node 0' && l.seq === 2),
        () => ({ ada: history(ada!), bob: history(bob!), failures: here[0]!.failures() }),
        15_000,
      );
      there.conversation(group).send('while Redis is silent, from node 1');
      await until(
        'the other node numbers its own client’s message too',
        () => history(there.conversation(group)).some((l) => l.body === 'while Redis is silent, from node 1' && l.seq !== null),
        () => ({ cyd: history(there.conversation(group)), failures: there.failures() }),
        15_000,
      );
      // The API answers too: a sign-in (its limits are shared through Redis) and a search.
      const response = await fetch(`${nodes[0]!.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: here[1]!.user.username, password: 'wrong password, on purpose' }),
        signal: AbortSignal.timeout(15_000),
      });
      expect(response.status).toBe(401);
    } finally {
      redisNetwork.resume();
    }
    const everyone = [...here, there].map((p) => p.conversation(group));
    await until(
      'everyone holds the same three messages, numbered 1..3',
      () => everyone.every((v) => history(v).length === 3 && numberedOneToN(history(v))) && new Set(everyone.map((v) => JSON.stringify(history(v)))).size === 1,
      () => everyone.map((v) => history(v).map((l) => `${l.seq}:${l.body}`)),
      60_000,
    );
    for (const person of [...here, there]) expect(person.failures().filter((f) => f.code !== 'retry')).toEqual([]);
  }, 120_000);
});
