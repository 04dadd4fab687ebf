// The web app's page carries its boot script inline (web/bootPlugin.ts): the policy lets exactly
// that script run, by its hash, and follows a new build of the page under a running server.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { inlineScripts, mountWebApp } from './webApp.ts';

const page = (script: string) => `<!doctype html><html><head><style>p{color:red}</style></head><body><div id="root"></div><script data-app="/assets/a.js">${script}</script><script type="module" src="/assets/b.js"></script></body></html>`;
const hash = (script: string) => `'sha256-${createHash('sha256').update(script).digest('base64')}'`;

describe('the web app page', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the scripts written into a page, not those it loads', () => {
    expect(inlineScripts(page('console.log(1)\n'))).toEqual(['console.log(1)\n']);
    expect(inlineScripts('<script src="/boot.js"></script>')).toEqual([]);
  });

  it('lets the page’s own inline script run by its hash, and no other, also after a new build', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'outpost-web-'));
    writeFileSync(path.join(dir, 'index.html'), page('var a = 1;'));
    const app = new Hono<{ Variables: object }>();
    expect(mountWebApp(app, dir)).toBe(true);
    const policy = async (route: string) => {
      const response = await app.request(route);
      expect(response.status).toBe(200);
      return response.headers.get('content-security-policy') ?? '';
    };
    const scriptSrc = (csp: string) => csp.split('; ').find((d) => d.startsWith('script-src '));
    expect(scriptSrc(await policy('/'))).toBe(`script-src 'self' ${hash('var a = 1;')}`);
    // An app route (a deep link) is the same page, under the same policy.
    expect(scriptSrc(await policy('/c/x/m/y'))).toBe(`script-src 'self' ${hash('var a = 1;')}`);
    // A new build under the running server: its script, not the old one's.
    writeFileSync(path.join(dir, 'index.html'), page('var a = 2;'));
    utimesSync(path.join(dir, 'index.html'), new Date(), new Date(Date.now() + 5_000));
    expect(scriptSrc(await policy('/'))).toBe(`script-src 'self' ${hash('var a = 2;')}`);
    expect(scriptSrc(await policy('/'))).not.toContain('unsafe-inline');
  });
});
