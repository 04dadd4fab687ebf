// The web app in real Chromium through real faults, at random: Ada's browser reaches the node
// through a TCP proxy that stalls (a dead zone: the browser still thinks it is online) or cuts
// every connection (a change of network); the node is killed with SIGKILL and started again; Ada
// reloads the app or her browser goes offline; both write meanwhile. In the end both screens show
// the same messages in the same order, each once, all sent, every one written, and the page never
// threw. SEED=n replays one seed; NODE_LOGS=dir keeps what the node printed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTcpProxy, type TcpProxy } from '@outpost/storage/testing';
import { random, seeds, spawnNode, teardown, type SpawnedNode } from '../harness.ts';
import { Person, buildWebApp, launchChromium, until } from './ui.ts';

const FILE = 'e2e/src/web/faults.e2e.ts';

let browser: Browser;
let node: SpawnedNode;
let network: TcpProxy;
const dirs: string[] = [];

beforeAll(async () => {
  const webDir = await buildWebApp();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-web-faults-'));
  dirs.push(webDir, dataDir);
  // Every sync answer over 512 bytes goes in pieces, as a long history does on a slow link.
  node = await spawnNode({ dataDir, env: { WEB_DIR: webDir, SYNC_PIECE_BYTES: '512' } });
  network = await startTcpProxy({ host: '127.0.0.1', port: node.port });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  network?.resume();
  await network?.close();
  await teardown();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the web app through real faults', () => {
  it.each(seeds([1]))('seed %i: stalls, cuts, a killed node, reloads and offline: both screens agree, nothing lost or doubled', async (seed) => {
    const rng = random(seed);
    // Ada through the faulty network, Bob straight to the node (he is on the site's network).
    const ada = await Person.register(browser, `http://127.0.0.1:${network.port}`, 'Ada');
    const bob = await Person.register(browser, node.url, 'Bob');
    const thrown: string[] = [];
    for (const person of [ada, bob]) person.page.on('pageerror', (error) => thrown.push(`${person.name}: ${error.stack ?? error.message}`));
    const dealt: string[] = [];
    const ending: Promise<void>[] = [];
    try {
      await ada.startDirect(bob);
      await bob.open('Ada');
      const written: string[] = [];
      let offline = false;

      for (let step = 0; step < 20 + rng.int(10); step++) {
        const roll = rng.next();
        if (roll < 0.45) {
          const text = `ada says ${step} (${rng.int(1000)})`;
          await ada.type(text);
          written.push(text);
        } else if (roll < 0.58) {
          const text = `bob says ${step}`;
          await bob.type(text);
          written.push(text);
        } else if (roll < 0.68) {
          const ms = 100 + rng.int(2000);
          network.stall();
          ending.push(pause(ms).then(() => network.resume()));
          dealt.push(`stall ${ms} ms`);
        } else if (roll < 0.76) {
          network.cut();
          dealt.push('cut');
        } else if (roll < 0.82) {
          await node.kill();
          await pause(rng.int(500));
          await node.restart();
          dealt.push('node killed');
        } else if (roll < 0.9) {
          // A reload while the network may be stalled: the app starts from its replica.
          await ada.page.reload({ waitUntil: 'commit' });
          await ada.heading('Bob').waitFor();
          dealt.push('reload');
        } else {
          offline = !offline;
          await ada.context.setOffline(offline);
          dealt.push(offline ? 'offline' : 'online');
        }
        if (rng.next() < 0.4) await pause(rng.int(400));
      }
      await Promise.all(ending);
      await ada.context.setOffline(false);

      const everyone = [ada, bob];
      const views = async () => Promise.all(everyone.map((person) => person.history()));
      await until(
        'both screens show every message written, once, in one order, all sent',
        async () => {
          const [first, second] = await views();
          if (!first || !second) return false;
          const bodies = first.map((m) => m.body);
          return (
            bodies.length === written.length &&
            new Set(bodies).size === bodies.length &&
            written.every((text) => bodies.includes(text)) &&
            first.every((m) => m.state === 'sent') &&
            JSON.stringify(second.map((m) => [m.body, m.state])) === JSON.stringify(first.map((m) => [m.body, m.state]))
          );
        },
        async () => ({ dealt, written, views: (await views()).map((view) => view.map((m) => `${m.body} [${m.state}]`)) }),
        90_000,
      );
      expect(thrown).toEqual([]);
      console.info(`seed ${seed}: ${written.length} messages; dealt ${dealt.join(', ')}`);
    } catch (error) {
      throw new Error(`seed ${seed} failed (dealt: ${dealt.join(', ')}); replay with: SEED=${seed} npx vitest run ${FILE}\n${(error as Error).message}`, { cause: error });
    } finally {
      network.resume();
      await Promise.allSettled(ending);
      await ada.context.close();
      await bob.context.close();
    }
  }, 240_000);
});
