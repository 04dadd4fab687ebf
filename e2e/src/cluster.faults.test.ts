// Many nodes through real faults: a node killed with SIGKILL during a burst, Redis killed and
// brought back empty, Postgres stopped and restarted, a node drained with SIGTERM. After each,
// every message anyone saw numbered is on every member's replica exactly once, numbered 1..N,
// and the replicas are identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import type { ConversationId } from '@outpost/shared-schema';
import { startCluster, type Cluster } from './cluster.ts';
import { signUp, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 });
}, 120_000);
afterAll(async () => cluster?.stop());

/** Three people in a group, connected through the load balancer (or each to its own node). */
async function crew(direct = false): Promise<{ people: OutpostClient[]; group: ConversationId }> {
  const url = (i: number) => (direct ? cluster.nodes[i]!.url : cluster.url);
  const people = [await signUp(url(0), 'ada'), await signUp(url(1), 'bob'), await signUp(url(2), 'cyd')];
  const group = await people[0]!.createGroup('crew', people.slice(1).map((p) => p.user.id));
  await until('everyone has the group', () => people.every((p) => p.conversation(group).meta().get()?.kind === 'group' && p.conversation(group).synced()));
  return { people, group };
}

/** Everyone's view holds exactly `count` messages, numbered 1..N, identical everywhere. */
async function converged(people: OutpostClient[], group: ConversationId, count: number, what: string): Promise<void> {
  const views = people.map((p) => p.conversation(group));
  await until(
    what,
    () => views.every((v) => history(v).length === count && numberedOneToN(history(v))) && new Set(views.map((v) => JSON.stringify(history(v)))).size === 1,
    () => views.map((v) => history(v).map((l) => `${l.seq}:${l.body}`)),
    60_000,
  );
  for (const person of people) expect(person.failures().filter((f) => f.stopped)).toEqual([]);
}

/** Each person sends `each` messages, one every `gapMs`. */
async function burst(people: OutpostClient[], group: ConversationId, each: number, label: string, gapMs = 10): Promise<void> {
  for (let i = 0; i < each; i++) {
    for (const [n, person] of people.entries()) person.conversation(group).send(`${label} ${n}-${i}`);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

describe('three nodes through faults', () => {
  it('a node killed with SIGKILL during a burst: its clients move to the others through nginx, nothing acknowledged is lost', async () => {
    const { people, group } = await crew();
    const sending = burst(people, group, 20, 'burst');
    await new Promise((resolve) => setTimeout(resolve, 80));
    await cluster.nodes[0]!.kill();
    await sending;
    await converged(people, group, 60, 'all 60 messages numbered once, everywhere');
    await cluster.nodes[0]!.restart();
  });

  it('Redis killed, then back empty: nodes keep serving their own clients, then catch up and deliver across nodes again', async () => {
    const { people, group } = await crew(true); // one person per node
    await burst(people, group, 3, 'before');
    await converged(people, group, 9, 'the first messages everywhere');
    await cluster.redis.kill();
    await burst(people, group, 3, 'without redis');
    // Each node still numbers what its own clients send (Postgres is the truth).
    await until('every message is numbered by its own node', () => people.every((p) => history(p.conversation(group)).filter((l) => l.seq === null).length === 0));
    await cluster.redis.restart();
    await cluster.redis.flushAll();
    // Nobody writes: the nodes catch up from the log by themselves when Redis returns.
    await converged(people, group, 18, 'cross-node delivery resumes and everyone converges');
    await burst(people, group, 1, 'after');
    await converged(people, group, 21, 'and new messages cross nodes live again');
  });

  it('Redis away: a removal and a sign-out on one node still cut connections on the others, by the sweep', async () => {
    const [a, b, c] = cluster.nodes.map((node) => node.url) as [string, string, string];
    const ada = await signUp(a, 'ada');
    const cyd = await signUp(c, 'cyd');
    const group = await ada.createGroup('crew', [cyd.user.id]);
    await until('cyd has the group on node C', () => cyd.conversation(group).synced());
    const elsewhere = await OutpostClient.resume({ url: b }, cyd.session);
    await until('another tab of that device is connected on node B', () => elsewhere.status().get() === 'connected' && elsewhere.conversations().get() !== undefined);
    await cluster.redis.kill(); // no notice crosses nodes now
    await ada.removeMember(group, cyd.user.id);
    await until('cyd is cut off on node C', () => cyd.failures().some((f) => f.docName.includes(group) && f.code === 'accessLost'), () => cyd.failures(), 15_000);
    await cyd.logout();
    await until('the session on node B is signed out too', () => elsewhere.failures().some((f) => f.code === 'signedOut'), () => elsewhere.failures(), 15_000);
    elsewhere.close();
    await cluster.redis.restart();
  });

  it('Postgres stopped and restarted: updates wait as retryable, are sent again, and nothing is lost', async () => {
    const { people, group } = await crew();
    await burst(people, group, 2, 'before');
    await converged(people, group, 6, 'the first messages everywhere');
    await cluster.postgres.shutDown();
    await burst(people, group, 2, 'while postgres is down');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.postgres.restart();
    await burst(people, group, 1, 'after');
    await converged(people, group, 15, 'everything sent while Postgres was away is numbered once');
  });

  it('a node drained with SIGTERM closes its sockets with "restarting"; its clients reconnect elsewhere at once', async () => {
    const { people, group } = await crew();
    await burst(people, group, 2, 'before');
    await converged(people, group, 6, 'the first messages everywhere');
    await cluster.nodes[1]!.stop();
    await burst(people, group, 2, 'after the drain');
    await converged(people, group, 12, 'clients of the drained node carry on through the others');
    await cluster.nodes[1]!.restart();
  });
});
