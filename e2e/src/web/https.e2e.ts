// The node serving HTTPS and WSS itself (TLS_CERT/TLS_KEY), as a team reaches it from phones on
// the site's network: the app loads over TLS, installs its service worker, and syncs over wss://.
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { loadConfig, startServer, type OutpostServer } from '@outpost/sync-server';
import { buildWebApp, launchChromium, Person, until } from './ui.ts';

let browser: Browser;
let server: OutpostServer;
let dir: string;
let webDir: string;

/** A self-signed certificate for 127.0.0.1, made with Debian's openssl as docs/phones.md does. */
function makeCertificate(into: string): { cert: string; key: string } {
  const cert = path.join(into, 'tls.crt');
  const key = path.join(into, 'tls.key');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', key, '-out', cert, '-subj', '/CN=outpost-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (made.error) throw new Error(`this test needs the openssl binary (apt-get install openssl): ${made.error.message}`);
  if (made.status !== 0) throw new Error(`openssl could not make a certificate:\n${made.stderr}`);
  return { cert, key };
}

beforeAll(async () => {
  webDir = await buildWebApp();
  dir = await mkdtemp(path.join(tmpdir(), 'outpost-https-'));
  const { cert, key } = makeCertificate(dir);
  server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'error', WEB_DIR: webDir, TLS_CERT: cert, TLS_KEY: key }));
  // Chromium trusts this one certificate (by its public key), as a phone that installed it would:
  // an untrusted certificate would load the page but refuse the service worker.
  const publicKey = new X509Certificate(await readFile(cert)).publicKey.export({ type: 'spki', format: 'der' });
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${createHash('sha256').update(publicKey).digest('base64')}`]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const d of [dir, webDir]) if (d) await rm(d, { recursive: true, force: true });
});

describe('HTTPS served by the node', () => {
  it('answers over TLS with the configured certificate', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = await readFile(path.join(dir, 'tls.crt'));
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${server.url}/health`, { ca }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(200);
  });

  it('runs the web app: the service worker installs and messages sync over wss://', async () => {
    const ada = await Person.register(browser, server.url, 'Ada');
    const bob = await Person.register(browser, server.url, 'Bob');
    expect(await ada.page.evaluate(() => navigator.serviceWorker.ready.then((registration) => registration.active?.scriptURL))).toBe(`${server.url}/sw.js`);
    await ada.startDirect(bob);
    await ada.send('over TLS, end to end');
    await bob.open('Ada');
    await bob.message('over TLS, end to end').waitFor();
    await until('the message is numbered by the server', async () => (await ada.history()).every((m) => m.state === 'sent'));
    expect(await ada.page.evaluate(() => location.protocol)).toBe('https:');
    await ada.context.close();
    await bob.context.close();
  });
});
