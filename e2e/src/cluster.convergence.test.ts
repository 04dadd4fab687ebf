// The seeded convergence test over three nodes: devices with IndexedDB replicas write at random,
// go offline, move to another node (a restart on the same replica, against another node) while
// nodes are killed with SIGKILL and restarted at random. At the end every device of every member
// shows the same history, numbered 1..N, and nothing was refused. Whatever its dice say, every
// seed moves a device and kills a node at least once. The second test deals more: the links from
// the nodes to Redis go silent or break, the links to Postgres stall, and Postgres is shut down and
// comes back (each node reaches both through a TCP proxy). SEED=n replays one seed (in both tests);
// a seed that ever failed is added to REGRESSIONS with what it found, and runs every time from then on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageId } from '@outpost/shared-schema';
import { startCluster, type Cluster } from './cluster.ts';
import { random, secondDevice, seeds, signUp, teardown, until } from './harness.ts';
import { agreeOnOneToN, history } from './history.ts';
import { workAtRandom } from './randomWork.ts';
import { browserProfile, closeReplicaClients, startOnReplica, type ReplicaClient } from './offlineReplica.ts';

afterAll(teardown);
afterAll(closeReplicaClients);

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, segmentSize: 8, faultyLinks: true, env: SHORT_DEADLINES });
}, 120_000);
afterAll(async () => cluster?.stop());


/** The first seed tried, kept as the everyday case. */
const FIRST_SEEDS = [11];
/**
 * Seeds that failed once, kept as regressions. 12 found two bugs: devices of one user in one
 * process relayed to each other as if they were tabs of one device (the relay is now scoped to
 * the session), and an edit of a message still on its way through another connection was refused
 * instead of waiting for it. 25 found a device that, back online after the head had moved on by
 * two segments, never fetched the one in between (its timeline had a hole there for good). 105
 * (about one run in five) found a batch of two devices' updates committed as a chain on a copy
 * that had missed another node's entry: the second landed on top of that entry, based on the
 * first that did not, its sequence entry unable to integrate (the message stayed unnumbered on
 * every device); or both were found stale round after round, for ever. NODE_LOGS=dir keeps what
 * the nodes print.
 */
const REGRESSIONS = [12, 25, 105];

/** Short deadlines on Postgres, so a stalled database is answered in seconds rather than 35 s. */
const SHORT_DEADLINES = { DATABASE_CONNECT_TIMEOUT_MS: '1000', DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_QUERY_TIMEOUT_MS: '2000' };
/** The seeds of the test with faulty links. */
const LINK_SEEDS = [201, 202];

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Device {
  handle: ReplicaClient;
  profile: ReturnType<typeof browserProfile>;
  node: number;
}

/** The run of one seed; `linkFaults` adds the faults of the links to Postgres and Redis. */
async function converge(seed: number, linkFaults: boolean): Promise<void> {
  const rng = random(seed);
  /** Link faults that end on their own (a stall for a while), awaited before the check. */
  const ending: Promise<void>[] = [];
  const dealt: string[] = [];
  try {
    const url = (node: number) => cluster.nodes[node]!.url;
    const people = [await signUp(url(0), 'ada'), await signUp(url(1), 'bob')];
    const group = await people[0]!.createGroup('field team', [people[1]!.user.id]);
    // Two devices per person, each on its own replica, spread over the nodes.
    const devices: Device[] = [];
    for (const [i, person] of people.entries()) {
      const other = await secondDevice(url(1), person);
      for (const [d, session] of [person.session, other.session].entries()) {
        const profile = browserProfile();
        const node = (i * 2 + d) % 3;
        devices.push({ handle: await startOnReplica(url(node), session, profile), profile, node });
      }
      person.close();
      other.close();
    }
    await until('every device has the group', () => devices.every((d) => d.handle.client.conversation(group).meta().get()?.kind === 'group'));

    let moves = 0;
    let kills = 0;
    /** The app restarts on its replica and reaches another node. */
    const move = async (device: Device): Promise<void> => {
      const session = device.handle.client.session;
      await device.handle.client.stored();
      device.handle.close();
      device.node = (device.node + 1 + rng.int(2)) % 3;
      device.handle = await startOnReplica(url(device.node), session, device.profile);
      moves += 1;
    };
    /** Redis goes silent or its connections break; Postgres stalls, or goes down and comes back. */
    const linkFault = async (): Promise<void> => {
      const links = cluster.links;
      if (!links) throw new Error('the cluster was started without faulty links');
      const roll = rng.next();
      if (roll < 0.35) {
        const ms = 300 + rng.int(2700);
        links.redis.stall();
        ending.push(pause(ms).then(() => links.redis.resume()));
        dealt.push(`redis silent ${ms} ms`);
      } else if (roll < 0.55) {
        links.redis.cut();
        dealt.push('redis cut');
      } else if (roll < 0.85) {
        const ms = 200 + rng.int(2000);
        links.postgres.stall();
        ending.push(pause(ms).then(() => links.postgres.resume()));
        dealt.push(`postgres stalled ${ms} ms`);
      } else {
        // One restart at a time: it waits for the faults before it to end.
        await Promise.all(ending);
        await cluster.postgres.shutDown();
        const ms = rng.int(1500);
        ending.push(pause(ms).then(() => cluster.postgres.restart()));
        dealt.push(`postgres down ${ms} ms`);
      }
    };
    /** A node dies with SIGKILL and comes back; its devices reconnect to it. */
    const kill = async (): Promise<void> => {
      const node = cluster.nodes[rng.int(3)]!;
      await node.kill();
      await new Promise((resolve) => setTimeout(resolve, rng.int(300)));
      await node.restart();
      kills += 1;
    };

    const sent: MessageId[] = [];
    for (let step = 0; step < 40; step++) {
      const device = rng.pick(devices);
      const roll = rng.next();
      if (roll < 0.1) {
        await move(device);
      } else if (roll < 0.18) {
        if (device.handle.client.status().get() === 'disconnected') device.handle.client.connect();
        else device.handle.client.disconnect();
      } else if (roll < 0.22) {
        await kill();
      } else if (linkFaults && roll < 0.32) {
        await linkFault();
      } else {
        workAtRandom(rng, device.handle.client, device.handle.client.conversation(group), sent);
      }
      if (rng.next() < 0.3) await new Promise((resolve) => setTimeout(resolve, rng.int(40)));
    }
    // Every seed covers what this test is for, even one whose dice never rolled it.
    if (moves === 0) await move(rng.pick(devices));
    if (kills === 0) await kill();
    if (linkFaults && !dealt.some((d) => d.startsWith('redis'))) {
      cluster.links?.redis.stall();
      ending.push(pause(1_500).then(() => cluster.links?.redis.resume()));
      dealt.push('redis silent 1500 ms');
    }
    if (linkFaults && !dealt.some((d) => d.startsWith('postgres'))) {
      cluster.links?.postgres.stall();
      ending.push(pause(1_500).then(() => cluster.links?.postgres.resume()));
      dealt.push('postgres stalled 1500 ms');
    }
    await Promise.all(ending);
    for (const device of devices) device.handle.client.connect();

    const views = () => devices.map((d) => d.handle.client.conversation(group));
    await until(
      'every device holds the same history, numbered 1..N',
      () => agreeOnOneToN(views().map(history), sent.length),
      () =>
        devices.map((d, i) => ({
          device: i,
          node: d.node,
          status: d.handle.client.status().get(),
          loadedSegments: views()[i]!.loadedSegments(),
          subscribedSegments: views()[i]!.subscribedSegments(),
          unsynced: d.handle.client.hasUnsyncedChanges,
          failures: d.handle.client.failures(),
          head: views()[i]!.meta().get()?.head,
          unnumbered: views()[i]!.messages().get().filter((m) => m.seq === null).map((m) => ({ id: m.id, body: m.body, author: m.author, deleted: m.deleted, segment: (m as { segment?: number }).segment })),
          history: history(views()[i]!).map((l) => `${l.seq}:${l.body}:${l.reactions}`),
        })),
      90_000,
    );
    // And nothing waits in any outbox (a change stranded on a device converges nowhere).
    await until(
      'every outbox drains',
      () => devices.every((d) => d.handle.client.outbox().get().length === 0),
      () => devices.map((d, i) => ({ device: i, node: d.node, waiting: d.handle.client.outbox().get().map((op) => `${op.kind} ${op.docName}`) })),
      60_000,
    );
    for (const device of devices) expect(device.handle.client.failures().filter((f) => f.code !== 'retry')).toEqual([]);
    if (linkFaults) console.info(`seed ${seed}: ${sent.length} messages; links: ${dealt.join(', ')}`);
  } catch (error) {
    const faults = linkFaults ? ` (links: ${dealt.join(', ')})` : '';
    throw new Error(`seed ${seed} failed${faults}; replay with: SEED=${seed} npx vitest run e2e/src/cluster.convergence.test.ts\n${(error as Error).message}`, { cause: error });
  } finally {
    cluster.links?.redis.resume();
    cluster.links?.postgres.resume();
    await Promise.allSettled(ending);
  }
}

describe('convergence over three nodes', () => {
  // Longer than the wait for convergence, so a seed that never converges says where it stood.
  it.each(seeds([...FIRST_SEEDS, ...REGRESSIONS]))('seed %i: devices move between nodes and nodes die, every replica converges on 1..N', (seed) => converge(seed, false), 180_000);
  it.each(seeds(LINK_SEEDS))('seed %i: and the links to Redis and Postgres stall and break, Postgres restarts: every replica converges on 1..N', (seed) => converge(seed, true), 180_000);
});
