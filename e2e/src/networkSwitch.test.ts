// A phone changes networks (Wi-Fi to cellular) and the browser never says "offline": its socket
// leads nowhere from then on, in silence (no reset), while new connections work: a TCP proxy whose
// open connections are forsaken. What Ada writes just after the switch must not wait for the
// provider's own check (30 s without any message, ~36 s in all): the SDK probes a socket whose
// update has had no word back for 5 s and drops it when the probe gets none either. And a node
// that is only slow (its Postgres stalled, so an update waits for its commit) answers the probe
// from memory and keeps its clients: no reconnects, which would pile on a node in trouble.
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { startTcpProxy } from '@outpost/storage/testing';
import { countReconnects, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

describe('a socket that leads nowhere', () => {
  it('after a network switch the browser does not report, a message goes out on a new socket within seconds', async () => {
    const server = await startNode(await freshDatabase('sqlite'));
    const network = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const bob = await signUp(server.url, 'bob');
      const ada = await signUp(server.url, 'ada');
      const phone = await OutpostClient.login({ url: `http://127.0.0.1:${network.port}` }, { username: ada.user.username, password: 'correct horse battery' });
      const id = await bob.openDirect(ada.user.id);
      await until('her phone has the conversation', () => phone.conversation(id).synced());
      phone.conversation(id).send('before the switch');
      await until('bob has it, numbered', () => history(bob.conversation(id)).some((l) => l.body === 'before the switch' && l.seq === 1));

      network.forsakeOpen();
      const started = Date.now();
      phone.conversation(id).send('just after the switch');
      // The limit is below the provider's own check (~36 s) with room to spare; the probe takes ~10 s.
      await until(
        'bob has it, numbered',
        () => history(bob.conversation(id)).some((l) => l.body === 'just after the switch' && l.seq === 2),
        () => ({ phone: phone.status().get(), history: history(phone.conversation(id)) }),
        25_000,
      );
      console.info(`network switch: the message went out after ${Date.now() - started} ms`);
      expect(phone.failures()).toEqual([]);
      phone.close();
      ada.close();
      bob.close();
    } finally {
      await network.close();
      await server.close();
    }
  }, 60_000);

  it('a node waiting on a stalled Postgres answers the probe, and keeps its clients connected', async () => {
    const { dataDir, databaseUrl } = await freshDatabase('postgres');
    const target = new URL(databaseUrl!);
    const database = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const server = await startNode({ dataDir, databaseUrl: database.urlThrough(databaseUrl!) });
    try {
      const bob = await signUp(server.url, 'bob');
      const ada = await signUp(server.url, 'ada');
      const id = await bob.openDirect(ada.user.id);
      await until('ada has the conversation', () => ada.conversation(id).synced());
      const reconnects = countReconnects(ada);
      ada.conversation(id).send('before the stall');
      await until('bob has it, numbered', () => history(bob.conversation(id)).some((l) => l.seq === 1));

      // Longer than the probe's 10 s, shorter than the node's deadlines on Postgres (30 s).
      database.stall();
      ada.conversation(id).send('while Postgres stalls');
      await new Promise((resolve) => setTimeout(resolve, 18_000));
      expect(reconnects()).toBe(0);
      database.resume();
      await until('numbered once Postgres answers', () => history(bob.conversation(id)).some((l) => l.body === 'while Postgres stalls' && l.seq === 2), () => history(bob.conversation(id)), 40_000);
      expect(reconnects()).toBe(0);
      ada.close();
      bob.close();
    } finally {
      database.resume();
      await database.close();
      await server.close();
    }
  }, 120_000);
});
