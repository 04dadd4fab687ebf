// Cold start from a replica of N messages in Debian's Chromium, on its real IndexedDB: one
// navigation writes the replica, a second one (a fresh page, as after a browser restart) starts
// from it with no network.
import path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { ColdStartResult } from './coldStartMeasure.ts';
import { coldStartReport } from './coldStartReport.ts';

const ORIGIN = 'http://bench.localhost';

export async function browserColdStart(messages: number, segmentSize: number): Promise<void> {
  const built = await build({
    entryPoints: [path.join(import.meta.dirname, 'browserPage.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  });
  const bundle = built.outputFiles[0]?.text ?? '';
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless'],
  });
  try {
    const context = await browser.newContext();
    await context.route(`${ORIGIN}/**`, (route) =>
      route.request().url().includes('/bench.js')
        ? route.fulfill({ contentType: 'text/javascript', body: bundle })
        : route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>' }),
    );
    await context.setOffline(true);
    const page = await context.newPage();
    page.setDefaultTimeout(600_000);
    page.on('pageerror', (error) => console.error('bench page error:', error));
    await page.goto(`${ORIGIN}/?populate=${messages}&segmentSize=${segmentSize}`);
    await page.evaluate(() => window.benchDone);
    await page.goto(`${ORIGIN}/?measure=${messages}&segmentSize=${segmentSize}`);
    const outcome = (await page.evaluate(() => window.benchDone)) as { result: ColdStartResult; usage?: number };
    coldStartReport('Chromium, real IndexedDB', messages, segmentSize, outcome.result);
    if (outcome.usage) console.log(`   the origin's storage use (navigator.storage.estimate): ${(outcome.usage / messages).toFixed(0)} B per message`);
  } finally {
    await browser.close();
  }
}
