// Cold start from a replica of N messages in Debian's Chromium, on its real IndexedDB: one
// navigation writes the replica, a second one (a fresh page, as after a browser restart) starts
// from it with no network. CPU_PROF=file writes the second navigation's CPU profile (Chromium's
// .cpuprofile, for DevTools).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { ColdStartResult } from './coldStartMeasure.ts';
import { coldStartReport } from './coldStartReport.ts';

export async function browserColdStart(messages: number, segmentSize: number): Promise<void> {
  const built = await build({
    entryPoints: [path.join(import.meta.dirname, 'browserPage.ts')],
    bundle: true,
    // CPU_PROF=file writes the cold start's CPU profile; the bundle keeps its names for it.
    minify: process.env.CPU_PROF === undefined,
    keepNames: process.env.CPU_PROF !== undefined,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  });
  const bundle = built.outputFiles[0]?.text ?? '';
  // A real HTTP server on loopback: Playwright's request interception hands the bundle over the
  // DevTools connection, which took ~100 ms of the navigation. `no-store`: the bundle is fetched
  // and compiled afresh on each navigation (no HTTP or code cache helps the cold start).
  const server = createServer((request, response) => {
    const script = request.url?.startsWith('/bench.js') === true;
    response.writeHead(200, { 'content-type': script ? 'text/javascript' : 'text/html', 'cache-control': 'no-store' });
    response.end(script ? bundle : '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless'],
  });
  try {
    // No sync server: the client's URL is a closed port, so it runs offline.
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(600_000);
    page.on('pageerror', (error) => console.error('bench page error:', error));
    await page.goto(`${origin}/?populate=${messages}&segmentSize=${segmentSize}`);
    await page.evaluate(() => window.benchDone);
    const cdp = process.env.CPU_PROF ? await context.newCDPSession(page) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    await page.goto(`${origin}/?measure=${messages}&segmentSize=${segmentSize}`);
    const outcome = (await page.evaluate(() => window.benchDone)) as { result: ColdStartResult; usage?: number };
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(process.env.CPU_PROF as string, JSON.stringify(profile));
    }
    coldStartReport('Chromium, real IndexedDB', messages, segmentSize, outcome.result);
    if (outcome.usage) console.log(`   the origin's storage use (navigator.storage.estimate): ${(outcome.usage / messages).toFixed(0)} B per message`);
  } finally {
    await browser.close();
    server.close();
  }
}
