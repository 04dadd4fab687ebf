// In real Chromium (Debian's /usr/bin/chromium through playwright-core): a page using the SDK
// on IndexedDB goes offline, writes, reloads while offline and still shows everything, then
// converges with a second browser context; two tabs of one user write at once and nothing is
// lost or duplicated. The page is served by request interception, so it loads offline too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig, startServer, type OutpostServer } from '@outpost/sync-server';
import type { Session } from '@outpost/shared-schema';
import { signUp, teardown, until } from './harness.ts';

// *.localhost is a secure context (crypto.randomUUID, navigator.storage) and never leaves the machine.
const ORIGIN = 'http://outpost.localhost';
const here = path.dirname(fileURLToPath(import.meta.url));
const screenshots = path.join(here, '../../test-results');

let browser: Browser;
let server: OutpostServer;
let dataDir: string;
let bundle: string;

beforeAll(async () => {
  const built = await build({ entryPoints: [path.join(here, 'browser/page.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'warning' });
  bundle = built.outputFiles[0]?.text ?? '';
  dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-browser-'));
  server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'error', CORS_ORIGINS: ORIGIN }));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // The page is served by interception, so Chromium cannot place it in an address space and
    // would block its requests to the loopback server as "local network access" from the web.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless', '--disable-features=LocalNetworkAccessChecks'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await teardown();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A browser profile (its own IndexedDB) that serves the test page, network or not. */
async function profile(): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route(`${ORIGIN}/**`, (route) =>
    route.request().url().endsWith('/page.js')
      ? route.fulfill({ contentType: 'text/javascript', body: bundle })
      : route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>Outpost test page</title><main id="app"></main><script type="module" src="/page.js"></script>' }),
  );
  return context;
}

async function openPage(context: BrowserContext, session?: Session, conversationId?: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => typeof window.outpost === 'object');
  if (session) await page.evaluate(([url, s, id]) => window.outpost.start(url, s, id), [server.url, session, conversationId] as const);
  else await page.evaluate(() => window.outpostReady);
  return page;
}

type Line = { id: string; seq: number | null; body: string; status: string };
const lines = (page: Page): Promise<Line[]> => page.evaluate(() => window.outpost.lines());
const numberedOneToN = (all: Line[]) => all.every((l, i) => l.seq === i + 1);

/** Signs up a user through the API (from Node) and returns their session for a page. */
async function account(name: string): Promise<{ session: Session; id: string }> {
  const client = await signUp(server.url, name);
  const session = client.session;
  client.close();
  return { session, id: client.user.id };
}

describe('the replica in Chromium', () => {
  it('goes offline, writes, reloads offline showing everything, then converges with another browser', async () => {
    const ada = await account('ada');
    const bobClient = await signUp(server.url, 'bob');
    const conversationId = await bobClient.openDirect(ada.id);
    const bobSession = bobClient.session;
    bobClient.close();

    const adaContext = await profile();
    const bobContext = await profile();
    const a = await openPage(adaContext, ada.session, conversationId);
    const b = await openPage(bobContext, bobSession, conversationId);

    await a.evaluate(() => window.outpost.send('hello from the depot'));
    await until('bob’s browser shows ada’s first message numbered', async () => (await lines(b)).some((l) => l.body === 'hello from the depot' && l.seq === 1));

    // The replica asked for persistent storage and reads the quota.
    await until('the page knows its storage quota', async () => (await a.evaluate(() => window.outpost.storage()))?.state === 'ok', async () => a.evaluate(() => window.outpost.storage()));
    const storage = await a.evaluate(() => window.outpost.storage());
    expect(typeof storage?.persisted).toBe('boolean');
    expect(storage?.quota).toBeGreaterThan(storage?.usage ?? 0);

    await adaContext.setOffline(true);
    await until('ada’s page sees it is offline', async () => (await a.evaluate(() => window.outpost.status())) !== 'connected');
    await a.evaluate(() => window.outpost.send('offline: north gate locked'));
    await a.evaluate(() => window.outpost.send('offline: tank at 40%'));
    await b.evaluate(() => window.outpost.send('bob: copy, heading out'));
    await a.evaluate(() => window.outpost.stored());

    await a.reload();
    await a.waitForFunction(() => typeof window.outpost === 'object');
    await a.evaluate(() => window.outpostReady);
    await until('after an offline reload the page shows all three from the replica', async () => (await lines(a)).length === 3, async () => lines(a));
    expect((await lines(a)).map((l) => [l.seq, l.body, l.status])).toEqual([
      [1, 'hello from the depot', 'sent'],
      [null, 'offline: north gate locked', 'pending'],
      [null, 'offline: tank at 40%', 'pending'],
    ]);
    await until('the screen lists them', async () => (await a.locator('ol.messages li').count()) === 3);
    expect(await a.locator('ol.messages li.pending').allTextContents()).toEqual(['… offline: north gate locked', '… offline: tank at 40%']);
    // The outbox loads from the replica beside the documents, not necessarily before them.
    await until('the outbox lists the two sends from the replica', async () => (await a.evaluate(() => window.outpost.outbox())).join() === 'send,send', async () => a.evaluate(() => window.outpost.outbox()));
    expect(await a.evaluate(() => window.outpost.search('gate'))).toEqual(['offline: north gate locked']);
    expect(await a.evaluate(() => window.outpost.status())).not.toBe('connected');
    await a.screenshot({ path: path.join(screenshots, 'replica-offline-reload.png') });

    await adaContext.setOffline(false);
    const converged = async () => {
      const [mine, theirs] = [await lines(a), await lines(b)];
      return mine.length === 4 && numberedOneToN(mine) && JSON.stringify(mine.map((l) => [l.id, l.seq])) === JSON.stringify(theirs.map((l) => [l.id, l.seq]));
    };
    await until('both browsers converge on four numbered messages', converged, async () => [await lines(a), await lines(b)]);
    await until('ada’s outbox drains', async () => (await a.evaluate(() => window.outpost.outbox())).length === 0);
    await a.screenshot({ path: path.join(screenshots, 'replica-converged.png') });
    await adaContext.close();
    await bobContext.close();
  });

  it('two tabs of one user write at once: nothing lost, nothing duplicated', async () => {
    const ada = await account('ada');
    const bobClient = await signUp(server.url, 'bob');
    const conversationId = await bobClient.openDirect(ada.id);
    const b = bobClient.conversation(conversationId);

    const context = await profile();
    const tab1 = await openPage(context, ada.session, conversationId);
    const tab2 = await openPage(context, ada.session, conversationId);
    await Promise.all([
      tab1.evaluate(() => Promise.all([...Array(15).keys()].map((i) => window.outpost.send(`tab one ${i}`)))),
      tab2.evaluate(() => Promise.all([...Array(15).keys()].map((i) => window.outpost.send(`tab two ${i}`)))),
    ]);
    const everyone = async () => {
      const [one, two] = [await lines(tab1), await lines(tab2)];
      const bob = b.messages().get();
      return one.length === 30 && two.length === 30 && bob.length === 30 && numberedOneToN(one) && JSON.stringify(one) === JSON.stringify(two) && bob.every((m, i) => m.seq === i + 1);
    };
    await until('both tabs and bob show the same 30 numbered messages', everyone, async () => [(await lines(tab1)).length, (await lines(tab2)).length, b.messages().get().length]);
    const bodies = (await lines(tab1)).map((l) => l.body).sort();
    expect(bodies).toEqual([...Array(15).keys()].flatMap((i) => [`tab one ${i}`, `tab two ${i}`]).sort());
    expect(new Set((await lines(tab2)).map((l) => l.id)).size).toBe(30);
    await until('both outboxes drain', async () => (await tab1.evaluate(() => window.outpost.outbox())).length + (await tab2.evaluate(() => window.outpost.outbox())).length === 0);
    await context.close();
  });
});
