// Moderation in real Chromium against a real server: a member reports a message from its
// toolbar, the server administrator (the first account) sees it with its context and resolves
// it; the group's owner locks it to admins-only posting and a member's composer says so.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { loadConfig, startServer, type OutpostServer } from '@outpost/sync-server';
import { buildWebApp, launchChromium, Person } from './ui.ts';

let browser: Browser;
let server: OutpostServer;
let dataDir: string;
let webDir: string;

beforeAll(async () => {
  webDir = await buildWebApp();
  dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-moderation-e2e-'));
  server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'error', WEB_DIR: webDir }));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const dir of [dataDir, webDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('moderation', () => {
  it('a report reaches the administrator with context; a locked group disables a member’s composer', async () => {
    const ada = await Person.register(browser, server.url, 'Ada'); // first account: server administrator
    const bob = await Person.register(browser, server.url, 'Bob');
    const cyd = await Person.register(browser, server.url, 'Cyd');
    await ada.createGroup('Yard', [bob, cyd]);
    await ada.send('Morning all');
    await bob.open('Yard');
    await bob.send('You are all useless');
    await cyd.open('Yard');
    await cyd.message('You are all useless').waitFor({ timeout: 30_000 });

    // Cyd reports Bob's message.
    await cyd.act('You are all useless', 'Report');
    const dialog = cyd.page.getByRole('dialog', { name: 'Report this message' });
    await dialog.getByLabel('What is wrong with it?').fill('Insulting the team');
    await cyd.screenshots('report-dialog');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await cyd.page.getByText('Reported to the server administrators.').waitFor({ timeout: 30_000 });

    // Ada, the administrator, sees it with the message before it, and resolves it.
    await ada.page.getByRole('button', { name: 'Reports' }).click();
    const reports = ada.page.getByRole('dialog', { name: 'Reported messages' });
    const report = reports.locator('.report', { hasText: 'Insulting the team' });
    await report.waitFor({ timeout: 30_000 });
    await report.locator('.report-context li.reported', { hasText: 'You are all useless' }).waitFor();
    await report.locator('.report-context li', { hasText: 'Morning all' }).waitFor();
    await ada.screenshots('reports-dialog');
    await report.getByRole('button', { name: 'Resolved' }).click();
    await reports.getByText('No open reports.').waitFor({ timeout: 30_000 });
    await reports.getByRole('button', { name: 'Close' }).click();

    // Ada locks the group; Bob's composer says why he cannot write.
    await ada.page.getByRole('button', { name: 'Members' }).click();
    await ada.page.getByLabel('Only the owner and admins can post').check();
    await bob.page.getByPlaceholder('Only the owner and admins can post in this group').and(bob.page.locator(':disabled')).waitFor({ timeout: 30_000 });
    await bob.screenshots('locked-group');
    await ada.page.getByLabel('Only the owner and admins can post').uncheck();
    await bob.page.getByRole('textbox', { name: 'Message' }).and(bob.page.locator(':enabled')).waitFor({ timeout: 30_000 });
  });
});
