// Cold start from a replica of N messages in Debian's Chromium, on its real IndexedDB: one
// browser writes the replica into a profile, a second one on the same profile (a browser
// restart) starts from it with no network, then a new tab of that browser does again. Both run
// twice: with history 'replica', as the web app starts the SDK (older segments stay in the
// replica until asked for), and with the SDK's default 'all' (every segment loaded into memory
// behind the latest ones). CPU_PROF=file writes each cold start's CPU profile
// (file.replica.restart.cpuprofile, …, for DevTools).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { BENCH_PAGE, benchScripts, launchOnProfile } from './chromiumBench.ts';
import type { ColdStartResult } from './coldStartMeasure.ts';
import { coldStartReport } from './coldStartReport.ts';

export async function browserColdStart(messages: number, segmentSize: number): Promise<void> {
  const scripts = await benchScripts();
  // A real HTTP server on loopback (Playwright's request interception handed the bundle over the
  // DevTools connection, ~100 ms of the navigation). The bundle is cacheable, as a deployed app's
  // hashed bundle is: the device that holds years of history has opened the app before, so its
  // browser has the bundle and V8's compiled code cached (CACHE=0 measures without).
  const cache = process.env.CACHE !== '0';
  const server = createServer((request, response) => {
    const script = scripts.get(new URL(request.url ?? '/', 'http://bench').pathname);
    response.writeHead(200, { 'content-type': script === undefined ? 'text/html' : 'text/javascript', 'cache-control': script !== undefined && cache ? 'max-age=86400' : 'no-store' });
    response.end(script ?? BENCH_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A real browser restart: the replica is written by one Chromium on a profile directory, and
  // the cold start runs in a second Chromium on the same profile (no old page's heap to tear
  // down, nothing of the writer left in memory).
  const profile = mkdtempSync(path.join(tmpdir(), 'outpost-bench-profile-'));
  const launch = () => launchOnProfile(profile);
  let context: BrowserContext | undefined;
  try {
    // No sync server: the client's URL is a closed port, so it runs offline.
    const writer = await launch();
    context = writer.context;
    // The app opened before (V8 keeps compiled code for a script loaded a few times).
    for (let i = 0; i < 3; i++) await writer.page.goto(`${origin}/`);
    await writer.page.goto(`${origin}/?populate=${messages}&segmentSize=${segmentSize}`);
    await writer.page.evaluate(() => window.benchDone);
    await writer.context.close();
    for (const history of ['replica', 'all'] as const) {
      const { context: reader, page } = await launch();
      context = reader;
      const measure = async (tab: Page, key: 'restart' | 'reopened', where: string) => {
        const cdp = process.env.CPU_PROF ? await reader.newCDPSession(tab) : undefined;
        if (cdp) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
          await cdp.send('Profiler.start');
        }
        await tab.goto(`${origin}/?measure=${messages}&segmentSize=${segmentSize}&history=${history}`);
        const outcome = (await tab.evaluate(() => window.benchDone)) as { result: ColdStartResult; usage?: number };
        if (cdp) {
          const { profile: cpu } = await cdp.send('Profiler.stop');
          writeFileSync(`${process.env.CPU_PROF as string}.${history}.${key}.cpuprofile`, JSON.stringify(cpu));
        }
        const mode = history === 'replica' ? "history 'replica' as in the web app" : "history 'all' (every segment into memory)";
        coldStartReport(`Chromium, real IndexedDB, ${key}: ${where}, ${mode}`, messages, segmentSize, outcome.result);
        if (outcome.usage) console.log(`   the origin's storage use (navigator.storage.estimate): ${(outcome.usage / messages).toFixed(0)} B per message`);
      };
      await measure(page, 'restart', 'a fresh browser on the stored profile');
      // Then as a page opened again in the running browser (its processes and IndexedDB warm): a
      // fresh tab, once the first one's renderer had a second to go away.
      await page.close();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const again = await reader.newPage();
      await measure(again, 'reopened', 'a new tab in the running browser');
      await reader.close();
      context = undefined;
    }
  } finally {
    await context?.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
