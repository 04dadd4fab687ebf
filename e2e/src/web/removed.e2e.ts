// A member removed while offline, in real Chromium against a real server: their queued work
// fails with the reason instead of waiting for ever, the status notice clears, the list says who
// removed them, people who left keep their names on another member's new device, and the
// group's timeline says who removed whom.
import { describe, expect, it } from 'vitest';
import { Person, until, webNode } from './ui.ts';

const web = webNode('removed');

describe('removed from a group', () => {
  it('queued work fails with the reason, the notice clears, the list says who removed you; names of people who left stay', async () => {
    const ada = await Person.register(web.browser, web.url, 'Ada');
    const cyd = await Person.register(web.browser, web.url, 'Cyd');
    const bob = await Person.register(web.browser, web.url, 'Bob');
    await ada.createGroup('Pump crew', [cyd, bob]);
    await ada.send('Pump 3 is down');
    await cyd.open('Pump crew');
    await cyd.send('On my way');
    // Sent, not only shown: on a busy machine it could still be waiting, and would count below.
    await until('Cyd’s message is numbered', async () => (await cyd.history()).every((m) => m.state === 'sent'));

    // Cyd works offline; meanwhile Ada removes her.
    await cyd.context.setOffline(true);
    await cyd.type('I will be there at noon');
    await cyd.act('Pump 3 is down', 'React');
    await cyd.page.getByRole('button', { name: 'React with 🎉' }).click();
    await cyd.page.getByText(/2 changes waiting to be sent/).waitFor();
    await ada.page.getByRole('button', { name: 'Members' }).click();
    await ada.page.getByRole('button', { name: 'Remove Cyd' }).click();
    await ada.page.getByRole('alertdialog', { name: 'Remove Cyd?' }).getByRole('button', { name: 'Remove' }).click();
    await cyd.context.setOffline(false);

    // The group leaves Cyd's list, with who removed her and what could not be sent.
    const notice = cyd.page.locator('.removal-list .removal');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toMatch(/You were removed from Pump crew by Ada · 2 changes you made there could not be sent/);
    await until('the group is gone from the list', async () => (await cyd.page.locator('.conversation-title', { hasText: 'Pump crew' }).count()) === 0);
    // Nothing is left waiting: the status notice says nothing about changes to send.
    await until('no change is waiting', async () => !/waiting to be sent|Sending/.test((await cyd.page.getByTestId('connection-banner').textContent()) ?? ''));
    await cyd.screenshots('removed-notice');

    // The group's timeline tells what happened, between the messages, on Ada's screen.
    await ada.page.locator('.timeline-event', { hasText: 'You removed Cyd' }).waitFor({ timeout: 30_000 });
    const story = await ada.page.locator('.timeline-event').allTextContents();
    expect(story.map((line) => line.replace(/\s*\d{1,2}:\d{2}.*$/, ''))).toEqual(['You created the group “Pump crew”', 'You removed Cyd']);
    await ada.screenshots('timeline');

    // Bob on a new device (a new browser profile): Cyd's old message keeps her name.
    const bobElsewhere = await web.browser.newContext({ baseURL: web.url, viewport: { width: 1280, height: 800 } });
    const page = await bobElsewhere.newPage();
    await page.goto('/');
    await page.getByLabel('Username').fill(bob.username);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.conversation-item', { hasText: 'Pump crew' }).click({ timeout: 30_000 });
    const row = page.locator('#root li.message', { has: page.locator('.body', { hasText: 'On my way' }) });
    await row.waitFor({ timeout: 30_000 });
    await until('the author of the old message is shown by name', async () => (await row.textContent())?.includes('Cyd') === true && !(await row.textContent())?.includes('Member '));
    await page.locator('.timeline-event', { hasText: 'Ada removed Cyd' }).waitFor({ timeout: 30_000 });
    await bobElsewhere.close();
  });
});
