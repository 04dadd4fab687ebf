// Serves the built web app (web/dist) from the same port as the API: files as they are, and
// index.html for app routes such as /c/<id>/m/<id>, so deep links work from a cold start.
// The build writes a brotli and a gzip copy beside every text file (web/precompressPlugin.ts):
// they are sent to browsers that accept them, so no CPU is spent compressing per request.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/**
 * Where the web app's policy lets it connect, load and run from: only this origin, and the scripts
 * written into its page (the boot screen's, web/bootPlugin.ts) by their hashes: no other inline
 * script runs.
 */
function contentSecurityPolicy(inlineScripts: readonly string[]): string {
  const hashes = inlineScripts.map((script) => ` 'sha256-${createHash('sha256').update(script).digest('base64')}'`).join('');
  return [
    "default-src 'self'",
    "connect-src 'self' ws: wss:",
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    `script-src 'self'${hashes}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** The text of each script written into the page (no `src`), as the browser hashes it. */
export function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1] as string);
}

/**
 * Files under /assets/ carry a hash of their content in their name: cached for a year and never
 * revalidated. Everything else (index.html, sw.js, the manifest, icons) keeps its name across
 * builds, so the browser asks again each time (a cheap 200 of a small file) and a new build shows.
 */
function cacheControl(requestPath: string): string {
  return requestPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** Mounts the web app when `webDir` holds a build; returns whether it did. */
export function mountWebApp<E extends object>(app: Hono<E & { Variables: object }>, webDir: string): boolean {
  const page = path.join(webDir, 'index.html');
  if (!existsSync(page)) return false;
  // Read again when the page changes (a new build under a running server): a stale hash would
  // block the boot script, which starts the app.
  let policy: { builtAt: number | undefined; value: string } = { builtAt: -1, value: '' };
  const policyNow = () => {
    const builtAt = statSync(page, { throwIfNoEntry: false })?.mtimeMs;
    if (builtAt !== policy.builtAt) policy = { builtAt, value: contentSecurityPolicy(builtAt === undefined ? [] : inlineScripts(readFileSync(page, 'utf8'))) };
    return policy.value;
  };
  // serveStatic resolves `root` against the working directory.
  const root = path.relative(process.cwd(), webDir) || '.';
  app.use('*', async (c, next) => {
    await next();
    if (c.req.path.startsWith('/api/') || c.req.path === '/sync' || c.req.path === '/health') return;
    if (c.res.headers.get('content-type')?.startsWith('text/html')) c.res.headers.set('Content-Security-Policy', policyNow());
    if (c.res.ok) c.res.headers.set('Cache-Control', cacheControl(c.req.path));
  });
  app.get('*', serveStatic({ root, precompressed: true }));
  // Any other GET outside the API is an app route: the app decides what it shows. A missing file
  // under /assets/ (a chunk of an older build) stays a 404, never a page cached as immutable.
  app.get('*', async (c, next) => {
    if (c.req.path.startsWith('/api/') || c.req.path.startsWith('/assets/') || c.req.path === '/sync' || c.req.path === '/health') return next();
    return serveStatic({ root, path: 'index.html', precompressed: true })(c, next);
  });
  return true;
}
