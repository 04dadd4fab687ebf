// Reading and writing in the web app, as a keyboard user and a new team would: landing at the
// first unread under "New messages", the composer focused on open, Ctrl+K to switch, message
// actions by keyboard, code blocks, lists, quotes and strikethrough, every emoji by search, "Copy
// link", receipts only where they mean something, search beyond 50, and sign-up that explains
// usernames before refusing one. Real Chromium, real server.
import { describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { Person, until, webNode } from './ui.ts';

const web = webNode('reading');
let ada: Person;
let bob: Person;


const focused = () => ada.page.evaluate(() => {
  const el = document.activeElement;
  return { tag: el?.tagName.toLowerCase() ?? '', label: el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '', id: el?.getAttribute('data-message-id') ?? '' };
});

describe('reading and writing', () => {
  it('opens at the first unread message under "New messages", with the composer focused', async () => {
    ada = await Person.register(web.browser, web.url, 'Ada');
    bob = await Person.register(web.browser, web.url, 'Bob');
    await ada.startDirect(bob);
    await ada.send('start of the day');
    await bob.open('Ada');
    await bob.send('read this one');
    await ada.message('read this one').waitFor();
    const conversationId = ada.conversationId();
    await ada.page.goto('/');
    await ada.page.locator('.conversation-item').first().waitFor();

    // Bob's other device writes a long run while Ada looks elsewhere.
    const device = await OutpostClient.login({ url: web.url }, { username: bob.username, password: 'correct horse battery' });
    const chat = device.conversation(conversationId);
    for (let i = 1; i <= 80; i++) chat.send(`unread ${i}`);
    await until('Ada’s list counts 80 unread', async () => (await ada.page.locator('.conversation-item .badge').first().textContent()) === '80');
    device.close();

    await ada.open('Bob');
    const divider = ada.page.locator('#new-messages');
    await divider.waitFor();
    // The divider sits right before the first unread message, and that is where the screen is.
    expect(await ada.page.locator('#new-messages + li.message .body').textContent()).toBe('unread 1');
    // In view: inside the visible part of the scrolling history.
    const inView = (text: string) =>
      ada.page.locator('#root li.message', { has: ada.page.locator('.body', { hasText: new RegExp(`^${text}$`) }) }).evaluate((row) => {
        const box = row.getBoundingClientRect();
        const view = row.closest('.message-scroller')!.getBoundingClientRect();
        return box.bottom > view.top && box.top < view.bottom;
      });
    await until('the first unread message is in view, the latest not', async () => (await inView('unread 1')) && !(await inView('unread 80')));
    await ada.page.getByRole('button', { name: 'Jump to latest' }).waitFor();
    expect((await focused()).label).toBe('Message');
    await ada.screenshots('new-messages');
  });

  it('Ctrl+K switches conversations; Escape returns focus; message actions work from the keyboard', async () => {
    await ada.createGroup('Depot', [bob]);
    await ada.send('depot is open');
    // Ctrl+K from the composer: type, Enter opens, and focus lands in the composer there.
    await ada.page.getByRole('textbox', { name: 'Message' }).press('Control+k');
    const switcher = ada.page.getByRole('dialog', { name: 'Go to a conversation' });
    await switcher.waitFor();
    await ada.screenshots('switcher');
    await ada.page.keyboard.type('bo');
    await ada.page.keyboard.press('Enter');
    await ada.heading('Bob').waitFor();
    await until('the composer has the focus', async () => (await focused()).label === 'Message');
    // Escape from the switcher gives the focus back to where it was.
    await ada.page.keyboard.press('Control+k');
    await switcher.waitFor();
    await ada.page.keyboard.press('Escape');
    await switcher.waitFor({ state: 'detached' });
    expect((await focused()).label).toBe('Message');

    // Shift+Tab from the composer's toolbar side reaches the history: one stop, then arrows.
    await ada.page.getByRole('textbox', { name: 'Message' }).fill('');
    await ada.send('keyboard only');
    const last = ada.message('keyboard only');
    await last.focus();
    await ada.page.keyboard.press('ArrowUp');
    expect((await focused()).id).toBe(await ada.message('unread 80').getAttribute('data-message-id'));
    await ada.page.keyboard.press('ArrowDown');
    expect((await focused()).id).toBe(await last.getAttribute('data-message-id'));
    // R replies, E edits, + reacts, Delete asks first; Escape goes back to the composer.
    await ada.page.keyboard.press('r');
    await ada.page.getByText('Replying to yourself').waitFor();
    await ada.page.keyboard.press('Escape');
    await last.focus();
    await ada.page.keyboard.press('e');
    const edit = ada.page.getByRole('textbox', { name: 'Edit message' });
    await edit.waitFor();
    await edit.fill('keyboard only, edited');
    await edit.press('Enter');
    await ada.message('keyboard only, edited').locator('.edited').waitFor();
    await ada.message('keyboard only, edited').focus();
    await ada.page.keyboard.press('+');
    await ada.page.getByRole('button', { name: 'React with 🎉' }).waitFor();
    await ada.page.keyboard.press('Enter'); // the first quick reaction has the focus
    await ada.message('keyboard only, edited').locator('.reaction', { hasText: '👍' }).waitFor();
    expect((await focused()).id).toBe(await ada.message('keyboard only, edited').getAttribute('data-message-id'));
    await ada.page.keyboard.press('Delete');
    await ada.page.getByRole('button', { name: 'Yes, delete' }).waitFor();
    expect((await focused()).label).toBe('Cancel');
    await ada.page.keyboard.press('Enter');
    expect(await ada.message('keyboard only, edited').count()).toBe(1);
    await ada.page.keyboard.press('Escape');
    expect((await focused()).label).toBe('Message');
  });

  it('shows code blocks, lists, quotes and strikethrough; reacts with any emoji by search; copies a link', async () => {
    await bob.open('Ada');
    const field = bob.page.getByRole('textbox', { name: 'Message' });
    await field.fill(['Steps for the pump:', '```', 'pump --reset', '  --force', '```', '- check **valve**', '- log it', '> the old way', '~~call Joe~~ done'].join('\n'));
    await field.press('Enter');
    const row = ada.message('Steps for the pump');
    await row.locator('pre code', { hasText: 'pump --reset' }).waitFor();
    expect(await row.locator('pre code').textContent()).toBe('pump --reset\n  --force');
    expect(await row.locator('ul > li').allTextContents()).toEqual(['check valve', 'log it']);
    expect(await row.locator('ul strong').textContent()).toBe('valve');
    expect(await row.locator('blockquote').textContent()).toBe('the old way');
    expect(await row.locator('del').textContent()).toBe('call Joe');
    expect(await row.locator('script, img').count()).toBe(0);

    await ada.act('Steps for the pump', 'React');
    await ada.page.getByRole('button', { name: 'More emoji' }).click();
    const search = ada.page.getByLabel('Search emoji');
    await search.fill('wrench');
    await ada.page.getByRole('button', { name: 'wrench', exact: true }).waitFor();
    await ada.screenshots('emoji-picker');
    await search.press('Enter');
    await bob.message('Steps for the pump').locator('.reaction', { hasText: '🔧' }).waitFor();

    await ada.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await ada.act('Steps for the pump', 'Copy link');
    await ada.page.getByText('Link copied.').waitFor();
    const id = await row.getAttribute('data-message-id');
    expect(await ada.page.evaluate(() => navigator.clipboard.readText())).toBe(`${web.url}/c/${ada.conversationId()}/m/${id}`);
  });

  it('"Seen by" only under your own messages; "Sent · #N" only on the last message or on hover', async () => {
    await ada.send('are you reading?');
    await bob.message('are you reading?').waitFor();
    await ada.message('are you reading?').locator('.seen', { hasText: 'Seen by Bob' }).waitFor();
    expect(await ada.page.locator('.seen').count()).toBe(1);
    expect(await ada.message('are you reading?').locator('.message-foot .state').textContent()).toMatch(/^Sent · #\d+$/);
    // Bob's screen does not say who has seen Ada's messages (only who has seen his own).
    await bob.send('yes');
    await ada.message('yes').waitFor();
    await bob.message('yes').locator('.seen', { hasText: 'Seen by Ada' }).waitFor();
    expect(await bob.page.locator('.seen').count()).toBe(1);
    // Once another message follows, Ada's sent state shows only when she points at her message.
    await until('the state line is gone from the message', async () => (await ada.message('are you reading?').locator('.message-foot .state').count()) === 0);
    const note = ada.message('are you reading?').locator('.toolbar-note');
    expect(await note.isVisible()).toBe(false);
    await ada.message('are you reading?').hover();
    await note.waitFor();
    expect(await note.textContent()).toMatch(/^Sent · #\d+$/);
  });

  it('search shows 50 results, then more on "Show more"', async () => {
    await ada.page.getByRole('button', { name: 'Search messages' }).click();
    await ada.page.getByLabel('Search all messages').fill('unread');
    await ada.page.getByText('The first 50 messages').waitFor();
    expect(await ada.page.locator('.search-hit').count()).toBe(50);
    await ada.page.getByRole('button', { name: 'Show more' }).click();
    await ada.page.getByText('80 messages', { exact: true }).waitFor();
    expect(await ada.page.locator('.search-hit').count()).toBe(80);
    expect(await ada.page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
  });

  it('sign-up says what a username may be before the server has to refuse one', async () => {
    const visitor = await web.browser.newContext({ baseURL: web.url });
    const page = await visitor.newPage();
    await page.goto('/');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByText('3–32 characters: lowercase letters, digits, dot (.), dash (-) and underscore (_)').waitFor();
    await page.getByLabel('Username').fill('Ada Lovelace!');
    await page.getByText('A username cannot contain spaces, “!”.').waitFor();
    expect(await page.getByRole('button', { name: 'Create account' }).isDisabled()).toBe(true);
    expect(await page.getByLabel('Username').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Username').fill('Ada.Lovelace');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'New message' }).waitFor();
    await visitor.close();
  });
});
