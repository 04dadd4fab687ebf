// Every main screen of the web app, at desktop (1280 px) and phone (390 px) width, in light and
// dark: axe-core finds no serious or critical accessibility violation, and a screenshot of each
// lands in test-results/screenshots/ to be looked at.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { seriousViolations, type Violation } from './axe.ts';
import { Person, shoot, webNode } from './ui.ts';

const web = webNode('a11y');
const found: { screen: string; violations: Violation[] }[] = [];


/** Checks and photographs the screen as it is, at both widths and in both colour schemes. */
async function audit(page: Page, screen: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await shoot(page, scheme === 'dark' ? `${screen}-dark` : screen, async (width) => {
      const violations = await seriousViolations(page);
      if (violations.length > 0) found.push({ screen: `${screen} at ${width} px, ${scheme}`, violations });
    });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('accessibility', () => {
  // 17 screens, each at two widths in two schemes: 68 axe runs and screenshots, 47 s and over
  // 60 s on a slow machine, so the suite's 60 s limit for a hung test is not this test's.
  it('every main screen passes axe with no serious or critical violation', { timeout: 180_000 }, async () => {
    const visitor = await web.browser.newContext({ baseURL: web.url });
    const signIn = await visitor.newPage();
    await signIn.goto('/');
    await signIn.getByRole('heading', { name: 'Sign in' }).waitFor();
    await audit(signIn, 'sign-in');
    await signIn.getByRole('button', { name: 'Create an account' }).click();
    await audit(signIn, 'sign-up');
    await visitor.close();

    const ada = await Person.register(web.browser, web.url, 'Ada');
    const bob = await Person.register(web.browser, web.url, 'Bob');
    await ada.startDirect(bob);
    await ada.send('Morning Bob, is the **north gate** open? See https://example.com/gate');
    await bob.open('Ada');
    await bob.act('north gate', 'Reply');
    await bob.send(`Yes @${ada.username}, opened at 7`);
    await ada.message('opened at 7').waitFor();
    await ada.page.getByText('Seen by Bob').waitFor();
    await audit(ada.page, 'a11y-chat');

    await ada.page.getByRole('button', { name: 'Details' }).click();
    await audit(ada.page, 'a11y-details');
    await ada.page.getByRole('button', { name: 'Close details' }).click();

    // Markup, the emoji picker open on a message, and the sign-up offer of notifications.
    await ada.type('Plan:\n```\npump --reset\n```\n- one\n- two\n> quoted\n~~old~~ new');
    await ada.message('pump --reset').waitFor();
    await ada.act('Plan:', 'React');
    await ada.page.getByRole('button', { name: 'More emoji' }).click();
    await ada.page.getByLabel('Search emoji').fill('pump');
    await audit(ada.page, 'a11y-emoji');
    await ada.page.keyboard.press('Escape');

    await ada.createGroup('Depot crew', [bob]);
    await ada.send('Welcome to the depot crew');
    await ada.page.getByRole('button', { name: 'Members' }).click();
    await audit(ada.page, 'a11y-group-members');
    await ada.page.getByRole('button', { name: 'Remove Bob' }).click();
    await audit(ada.page, 'a11y-confirm-remove');
    await ada.page.keyboard.press('Escape');
    await ada.page.getByRole('button', { name: 'Close details' }).click();

    await ada.page.keyboard.press('Control+k');
    await audit(ada.page, 'a11y-switcher');
    await ada.page.keyboard.press('Escape');
    await ada.page.getByRole('button', { name: 'Notifications', exact: true }).click();
    await audit(ada.page, 'a11y-notification-settings');
    await ada.page.keyboard.press('Escape');
    await ada.page.getByRole('button', { name: 'Reports', exact: true }).click();
    await ada.page.getByRole('dialog', { name: 'Reported messages' }).getByText('No open reports.').waitFor();
    await audit(ada.page, 'a11y-reports');
    await ada.page.keyboard.press('Escape');
    await ada.context.setOffline(true);
    await ada.send('written offline');
    await ada.page.getByTestId('connection-banner').getByText("You're offline").waitFor();
    await ada.page.getByRole('button', { name: 'Log out', exact: true }).click();
    await audit(ada.page, 'a11y-logout-unsent');
    await ada.page.keyboard.press('Escape');
    await ada.context.setOffline(false);

    await ada.page.getByRole('button', { name: 'Search messages' }).click();
    await ada.page.getByLabel('Search all messages').fill('gate');
    await ada.page.locator('.search-hit').first().waitFor();
    await audit(ada.page, 'a11y-search');

    await ada.page.goto('/');
    await ada.page.locator('.conversation-item').first().waitFor();
    await audit(ada.page, 'a11y-list');

    await ada.page.getByRole('button', { name: 'New group' }).click();
    await audit(ada.page, 'a11y-new-group');
    await ada.page.keyboard.press('Escape');
    await ada.page.getByRole('button', { name: 'New message' }).click();
    await audit(ada.page, 'a11y-new-message');
    await ada.page.keyboard.press('Escape');

    await ada.page.getByRole('button', { name: 'Account', exact: true }).click();
    await ada.page.getByRole('button', { name: 'Your data…' }).click();
    await audit(ada.page, 'a11y-your-data');
    await ada.page.getByRole('button', { name: 'Erase my account…' }).click();
    await audit(ada.page, 'a11y-erase-confirm');
    await ada.page.keyboard.press('Escape');

    expect(found, JSON.stringify(found, null, 1)).toEqual([]);
  });
});
