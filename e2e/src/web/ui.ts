// What the web app tests do as a user would: through labelled controls, in a real Chromium
// (Debian's /usr/bin/chromium driven by playwright-core), against a real server that serves a
// fresh build of the app. Waits are for conditions, with generous limits.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, startServer, type OutpostServer } from '@outpost/sync-server';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const screenshotDir = path.join(repoRoot, 'test-results', 'screenshots');

/** Builds the web app with Vite into a temporary folder and returns it. */
export async function buildWebApp(): Promise<string> {
  const out = await mkdtemp(path.join(tmpdir(), 'outpost-web-'));
  const vite = path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'error'], {
    cwd: path.join(repoRoot, 'web'),
    // vitest sets NODE_ENV=test, which would make a development build (no service worker).
    env: { ...process.env, NODE_ENV: 'production', OUTPOST_WEB_OUT: out },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  return out;
}

/** Debian's Chromium, headless; `args` adds switches (e.g. a certificate to trust). */
export function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--headless', ...args],
  });
}

/** A node and a browser for one test file (see webNode). */
export interface WebNode {
  readonly browser: Browser;
  readonly server: OutpostServer;
  /** The node's address, where the app is served. */
  readonly url: string;
  /** The app's build, as the node serves it. */
  readonly webDir: string;
  /** The node's data directory (its SQLite file is there). */
  readonly dataDir: string;
}

/**
 * For the test file that calls it: a fresh build of the app served by a node on SQLite in a
 * temporary data directory, and Chromium; both started before its tests and stopped after.
 *
 * @example
 * const web = webNode('moderation');
 * it('…', async () => { const ada = await Person.register(web.browser, web.url, 'Ada'); });
 */
/** `env`: more server settings (e.g. a small SEGMENT_SIZE, so a test's history spans segments). */
export function webNode(name: string, env: Record<string, string> = {}): WebNode {
  let browser: Browser | undefined;
  let server: OutpostServer | undefined;
  let webDir: string | undefined;
  let dataDir: string | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    webDir = await buildWebApp();
    dirs.push(webDir);
    dataDir = await mkdtemp(path.join(tmpdir(), `outpost-${name}-e2e-`));
    dirs.push(dataDir);
    server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'error', WEB_DIR: webDir, ...env }));
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const started = <T,>(value: T | undefined): T => {
    if (value === undefined) throw new Error('webNode: used before its beforeAll ran');
    return value;
  };
  return {
    get browser() {
      return started(browser);
    },
    get server() {
      return started(server);
    },
    get url() {
      return started(server).url;
    },
    get webDir() {
      return started(webDir);
    },
    get dataDir() {
      return started(dataDir);
    },
  };
}

const LIMIT = 30_000;

/** A user in their own browser profile (own IndexedDB, storage and service worker). */
export class Person {
  readonly name: string;
  readonly username: string;
  readonly context: BrowserContext;
  readonly page: Page;

  constructor(name: string, username: string, context: BrowserContext, page: Page) {
    this.name = name;
    this.username = username;
    this.context = context;
    this.page = page;
  }

  /** `clockAheadMs`: the browser's clock is that far ahead of the true time (a phone with no network time). */
  static async register(browser: Browser, baseUrl: string, name: string, options: { clockAheadMs?: number } = {}): Promise<Person> {
    const username = `${name.toLowerCase()}${process.pid}${Math.random().toString(36).slice(2, 7)}`;
    const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 } });
    // Time goes on as usual from there; only the page's clock reads wrong.
    if (options.clockAheadMs) await context.clock.install({ time: Date.now() + options.clockAheadMs });
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
    page.on('console', (message) => !['log', 'debug', 'info'].includes(message.type()) && console.error(`[${name}] console ${message.type()}:`, message.text()));
    await page.goto('/');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Display name').fill(name);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'New message' }).waitFor({ timeout: LIMIT });
    return new Person(name, username, context, page);
  }

  /** Opens (or creates) the DM with `other` through "New message". */
  async startDirect(other: Person): Promise<void> {
    await this.page.getByRole('button', { name: 'New message' }).click();
    await this.page.getByLabel('Find a person').fill(other.username);
    await this.page.getByRole('button', { name: new RegExp(other.username) }).click();
    await this.heading(other.name).waitFor({ timeout: LIMIT });
  }

  /** Creates a group with `members` through "New group" and opens it. */
  async createGroup(title: string, members: readonly Person[]): Promise<void> {
    await this.page.getByRole('button', { name: 'New group' }).click();
    await this.page.getByLabel('Group name').fill(title);
    for (const member of members) {
      await this.page.getByLabel('Add people').fill(member.username);
      await this.page.getByRole('button', { name: new RegExp(member.username) }).click();
    }
    await this.page.getByRole('button', { name: 'Create group' }).click();
    await this.heading(title).waitFor({ timeout: LIMIT });
  }

  /** Writes `text` and sends it without waiting for it to show (e.g. to time what follows). */
  async type(text: string): Promise<void> {
    const field = this.page.getByRole('textbox', { name: 'Message' });
    await field.fill(text);
    await field.press('Enter');
  }

  heading(title: string): Locator {
    // The app's own header: a boot screen (a copy of it) may still lie over the page after a reload.
    return this.page.locator('#root .conversation-header h2', { hasText: title });
  }

  /** Opens a conversation from the list. */
  async open(title: string): Promise<void> {
    const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    await this.page.locator('.conversation-item').filter({ has: this.page.locator('.conversation-title', { hasText: exact }) }).click({ timeout: LIMIT });
    await this.heading(title).waitFor({ timeout: LIMIT });
  }

  async send(text: string): Promise<void> {
    const field = this.page.getByRole('textbox', { name: 'Message' });
    await field.fill(text);
    await field.press('Enter');
    // The screen shows the text with its markup applied.
    await this.message(text.replace(/\*\*|`/g, '')).waitFor({ timeout: LIMIT });
  }

  message(text: string): Locator {
    return this.page.locator('#root li.message', { has: this.page.locator('.body', { hasText: text }) });
  }

  /** Runs a message action (Reply, React, Edit, Delete) from its toolbar. */
  async act(text: string, action: string): Promise<void> {
    const row = this.message(text);
    // Focus shows a message's actions as hover does (keyboard users reach them this way).
    await row.focus();
    await row.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: action, exact: true }).click();
  }

  /** The conversation as the screen shows it: [body, state] per message, in order. */
  async history(): Promise<{ id: string; body: string; state: string }[]> {
    return this.page.locator('#root li.message').evaluateAll((rows) =>
      rows.map((row) => ({
        id: row.getAttribute('data-message-id') ?? '',
        body: row.querySelector('.body')?.textContent ?? '',
        state: ['sent', 'pending', 'failed'].find((s) => row.classList.contains(s)) ?? '',
      })),
    );
  }

  /** Screenshots of the current screen at desktop (1280 px) and phone (390 px) width. */
  async screenshots(name: string): Promise<void> {
    await shoot(this.page, name);
  }

  /** The id of the open conversation, from the address bar. */
  conversationId(): string {
    const match = /\/c\/([^/]+)/.exec(new URL(this.page.url()).pathname);
    if (!match?.[1]) throw new Error(`no conversation open at ${this.page.url()}`);
    return match[1];
  }
}

/**
 * Screenshots of `page` at desktop (1280 px) and phone (390 px) width, as <name>-<width>.png;
 * `atEach` runs at each width before the picture is taken. The page is left at 1280 px.
 */
export async function shoot(page: Page, name: string, atEach: (width: number) => Promise<void> = async () => {}): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  for (const [width, height] of [[1280, 800], [390, 844]] as const) {
    await page.setViewportSize({ width, height });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await atEach(width);
    await page.screenshot({ path: path.join(screenshotDir, `${name}-${width}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Waits until `check` holds (a condition, not a timer); says what never happened. */
export async function until(what: string, check: () => Promise<boolean>, describe: () => Promise<unknown> = async () => '', limitMs = LIMIT): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`never became true: ${what}\nlast state: ${JSON.stringify(await describe(), null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
