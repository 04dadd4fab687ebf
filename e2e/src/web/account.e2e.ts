// Your account, in real Chromium against a real server: "Download my data" saves a JSON archive
// with your messages; "Erase my account" asks twice, refuses a wrong password, then signs you out
// with a notice, and the other person sees your message deleted and "Deleted user".
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AccountExport } from '@outpost/shared-schema';
import { webNode, Person, until } from './ui.ts';

const web = webNode('account');

describe('your account', () => {
  it('downloads your data, and erases the account after a warning and the password', async () => {
    const ada = await Person.register(web.browser, web.url, 'Ada');
    const bob = await Person.register(web.browser, web.url, 'Bob');
    await ada.startDirect(bob);
    const secret = `Gate code is 4471 (${process.pid})`;
    await ada.send(secret);
    await bob.open('Ada');
    await bob.message(secret).waitFor({ timeout: 30_000 });

    // Download my data.
    await ada.page.getByRole('button', { name: 'Account' }).click();
    await ada.page.getByRole('button', { name: 'Your data…' }).click();
    const dialog = ada.page.getByRole('dialog', { name: 'Your account' });
    const [download] = await Promise.all([ada.page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download my data' }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^outpost-${ada.username}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const archive = AccountExport.parse(JSON.parse(await readFile((await download.path()) as string, 'utf8')));
    expect(archive.account.username).toBe(ada.username);
    expect(archive.messages.map((m) => m.body)).toEqual([secret]);
    await ada.screenshots('account-dialog');

    // Erase: a warning, then the password; a wrong one erases nothing.
    await dialog.getByRole('button', { name: 'Erase my account…' }).click();
    const confirm = ada.page.getByRole('alertdialog', { name: 'Erase your account?' });
    await confirm.getByLabel('Your password, to confirm').fill('not my password');
    await confirm.getByRole('button', { name: 'Erase my account' }).click();
    await confirm.getByRole('alert').filter({ hasText: 'That password is not right. Nothing was erased.' }).waitFor({ timeout: 30_000 });
    await ada.screenshots('erase-confirm');
    await confirm.getByLabel('Your password, to confirm').fill('correct horse battery');
    await confirm.getByRole('button', { name: 'Erase my account' }).click();
    await ada.page.getByText('Your account was erased.').waitFor({ timeout: 30_000 });
    await ada.page.getByRole('button', { name: 'Sign in' }).waitFor();

    // Bob: the message is deleted, its text gone, and Ada is "Deleted user".
    await bob.page.locator('#root li.message .body.deleted').waitFor({ timeout: 30_000 });
    await until('the text is gone from Bob’s screen', async () => !((await bob.page.locator('.messages, main').first().textContent()) ?? '').includes(secret));
    await bob.heading('Deleted user').waitFor({ timeout: 30_000 });
  });
});
