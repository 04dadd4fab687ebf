// Cold start of the web app itself (web/dist, as built for production) in Debian's Chromium, from
// a replica of N messages, with no server: what the user sees, from navigation start. The replica
// is written through the SDK (the bench page, same origin), the app opens the conversation once so
// it keeps its boot screen (web/public/boot.js), then a restarted browser and a new tab open it
// again. Timed on the page: the first paint (when the boot screen shows the last 50 messages), the
// app's own list holding the last 50, and the boot screen gone. CPU_PROF=file writes each cold
// start's CPU profile (file.web-restart.cpuprofile…), TRACE=file its Chromium trace (file.web-restart.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { BENCH_PAGE, benchScripts, launchOnProfile } from './chromiumBench.ts';
import { printReport, type Measurement } from '../report/Report.ts';
import { conversationId, offlineSession } from './syntheticConversation.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const dist = path.join(root, 'web', 'dist');
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml', '.png': 'image/png', '.webmanifest': 'application/manifest+json', '.json': 'application/json' };

/** What the page recorded, in ms from navigation start (null: never happened). */
interface Marks {
  /** First contentful paint. */
  fcp: number | null;
  /** The boot screen, with its messages, was in the page (null: none shown). */
  boot: number | null;
  /** The app's own list held 50 messages. */
  app: number | null;
  /** The boot screen was taken away. */
  bootGone: number | null;
}

// Runs in the page before its own scripts: notes when each of the marks above happens.
const OBSERVE = `(() => {
  const marks = { fcp: null, boot: null, app: null, bootGone: null };
  window.__marks = marks;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.name === 'first-contentful-paint') marks.fcp = entry.startTime;
  }).observe({ type: 'paint', buffered: true });
  new MutationObserver(() => {
    const now = performance.now();
    const boot = document.getElementById('boot');
    if (marks.boot === null && boot && boot.querySelectorAll('li.message').length >= 50) marks.boot = now;
    if (marks.boot !== null && marks.bootGone === null && !boot) marks.bootGone = now;
    if (marks.app === null && document.querySelectorAll('#root li.message').length >= 50) marks.app = now;
  }).observe(document, { subtree: true, childList: true });
})();`;

export async function webColdStart(messages: number, segmentSize: number): Promise<void> {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'buildWeb.ts'), '--if-stale'], { stdio: 'inherit' });
  if (built.status !== 0 || !existsSync(path.join(dist, 'index.html'))) throw new Error('the web app did not build (node scripts/buildWeb.ts)');
  // The SDK's bench page writes the replica on this origin.
  const scripts = await benchScripts();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    // No server behind the app: its API and sync connections fail as they do offline.
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/sync')) return void request.socket.destroy();
    if (url.pathname === '/blank.html') return void response.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end('<!doctype html><meta charset="utf-8"><p>Outpost</p>');
    if (url.pathname === '/bench.html') return void response.writeHead(200, { 'content-type': 'text/html' }).end(BENCH_PAGE);
    const script = scripts.get(url.pathname);
    if (script !== undefined) return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    const file = path.join(dist, path.normalize(url.pathname));
    const found = file.startsWith(dist + path.sep) && existsSync(file) && !file.endsWith(path.sep) && path.extname(file) !== '';
    const served = found ? file : path.join(dist, 'index.html');
    // Hashed bundles are cached as a deployed app's are; the page and the service worker are not.
    const cacheable = found && url.pathname.startsWith('/assets/');
    response.writeHead(200, { 'content-type': TYPES[path.extname(served)] ?? 'application/octet-stream', 'cache-control': cacheable ? 'max-age=86400' : 'no-store' });
    response.end(readFileSync(served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(path.join(tmpdir(), 'outpost-bench-web-'));
  const launch = () => launchOnProfile(profile);
  const conversationPath = `/c/${conversationId}`;
  let context: BrowserContext | undefined;
  try {
    const writer = await launch();
    context = writer.context;
    await writer.page.goto(`${origin}/bench.html?populate=${messages}&segmentSize=${segmentSize}`);
    await writer.page.evaluate(() => window.benchDone);
    await writer.page.evaluate((session) => localStorage.setItem('outpost.session', session), JSON.stringify(offlineSession));
    // The app opens the conversation a few times (its code cached, its service worker installed);
    // leaving the page saves the boot screen.
    for (let i = 0; i < 3; i++) {
      await writer.page.goto(`${origin}${conversationPath}`);
      await writer.page.locator('#root li.message').nth(49).waitFor();
      await writer.page.goto(`${origin}/bench.html`);
    }
    const saved = await writer.page.evaluate(() => localStorage.getItem('outpost.bootScreen'));
    if (!saved) throw new Error('the app kept no boot screen');
    await writer.context.close();

    const { context: reader, page: first } = await launch();
    context = reader;
    const rows: Measurement[] = [];
    const measure = async (tab: Page, key: string) => {
      // The floor: the first paint of a page of one line, in the same browser just before.
      await tab.goto(`${origin}/blank.html`);
      const blank = await tab.evaluate(() => new Promise<number>((resolve) => new PerformanceObserver((list) => resolve(list.getEntries()[0]?.startTime ?? NaN)).observe({ type: 'paint', buffered: true })));
      const floor = { name: 'first paint of a one-line page', value: blank };
      await tab.addInitScript(OBSERVE);
      const cdp = process.env.CPU_PROF ? await tab.context().newCDPSession(tab) : undefined;
      const trace = process.env.TRACE ? await tab.context().newCDPSession(tab) : undefined;
      const events: unknown[] = [];
      if (trace) {
        trace.on('Tracing.dataCollected', (data) => events.push(...(data.value as unknown[])));
        await trace.send('Tracing.start', { categories: 'devtools.timeline,blink,loading,v8.execute,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
      }
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        await cdp.send('Profiler.start');
      }
      // Nothing of Playwright's runs in the page until the start is over (its injected script,
      // evaluated in a new renderer, took ~55 ms of the main thread before the first paint).
      await tab.goto(`${origin}${conversationPath}`, { waitUntil: 'commit' });
      await new Promise((resolve) => setTimeout(resolve, 4000));
      await tab.waitForFunction(() => {
        const marks = (window as unknown as { __marks: Marks }).__marks;
        return marks.app !== null && (marks.boot === null || marks.bootGone !== null);
      });
      const marks = await tab.evaluate(() => (window as unknown as { __marks: Marks }).__marks);
      if (trace) {
        const done = new Promise((resolve) => trace.once('Tracing.tracingComplete', resolve));
        await trace.send('Tracing.end');
        await done;
        writeFileSync(`${process.env.TRACE}.web-${key.replace(' ', '-')}.json`, JSON.stringify(events));
      }
      if (cdp) writeFileSync(`${process.env.CPU_PROF as string}.web-${key.replace(' ', '-')}.cpuprofile`, JSON.stringify((await cdp.send('Profiler.stop')).profile));
      // On screen: painted with the 50 messages in the page (the boot screen's, or the app's own).
      const shown = marks.boot !== null && marks.fcp !== null && marks.fcp >= marks.boot ? marks.fcp : (marks.app ?? NaN);
      rows.push({ name: `${key}: last 50 messages on screen`, value: shown, unit: 'ms', baseline: floor });
      rows.push({ name: `${key}: the app's own list holds them`, value: marks.app ?? NaN, unit: 'ms', baseline: floor });
      console.log(`   ${key}: first paint ${marks.fcp?.toFixed(0)} ms, boot screen ${marks.boot === null ? 'not shown' : `in the page at ${marks.boot.toFixed(0)} ms, gone at ${marks.bootGone?.toFixed(0)} ms`}`);
      return shown;
    };
    const restart = await measure(first, 'restart');
    // A new tab once the first one's renderer had a second to go away.
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const reopened = await measure(await reader.newPage(), 'new tab');
    printReport(`web app cold start, ${messages.toLocaleString('en')} messages — Chromium, web/dist, no server`, ['from navigation start; "on screen" is the first paint with the 50 messages in the page'], rows);
    for (const [key, value] of [['restart', restart], ['new tab', reopened]] as const) {
      console.log(`   target: last 50 on screen ≤ 150 ms (${key}) — ${value <= 150 ? 'met' : 'MISSED'} (${value.toFixed(0)} ms)`);
    }
  } finally {
    await context?.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
