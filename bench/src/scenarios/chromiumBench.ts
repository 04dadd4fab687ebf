// What both Chromium cold-start benches need: the SDK's bench page and its search worker,
// bundled, and Debian's Chromium on a profile directory that outlives one browser (a restart).
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The bench page's HTML (browserPage.ts, served as /bench.js). */
export const BENCH_PAGE = '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>';

/** The bench page and the search worker it starts (the SDK's worker entry), by the path they are served at. */
export async function benchScripts(): Promise<Map<string, string>> {
  const bundle = async (entry: { entryPoints: string[] } | { stdin: { contents: string; resolveDir: string } }) => {
    const built = await build({
      ...entry,
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
    return built.outputFiles[0]?.text ?? '';
  };
  return new Map([
    ['/bench.js', await bundle({ entryPoints: [path.join(import.meta.dirname, 'browserPage.ts')] })],
    ['/search-worker.js', await bundle({ stdin: { contents: "import '@outpost/client/search-worker';", resolveDir: import.meta.dirname } })],
  ]);
}

/** Headless Chromium on `profile` (a fresh launch on the same directory is a browser restart). */
export async function launchOnProfile(profile: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless'],
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(600_000);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => console.error('bench page error:', error));
  return { context, page };
}
