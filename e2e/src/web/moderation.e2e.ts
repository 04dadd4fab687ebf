// Moderation in real Chromium against a real server: a member reports a message from its
// toolbar, the server administrator (the first account) sees it with its context and resolves
// it; the group's owner locks it to admins-only posting and a member's composer says so.
import { describe, it } from 'vitest';
import { webNode, Person } from './ui.ts';

const web = webNode('moderation');

describe('moderation', () => {
  it('a report reaches the administrator with context; a locked group disables a member’s composer', async () => {
    const ada = await Person.register(web.browser, web.url, 'Ada'); // first account: server administrator
    const bob = await Person.register(web.browser, web.url, 'Bob');
    const cyd = await Person.register(web.browser, web.url, 'Cyd');
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
