// The web app in real Chromium against a real server (SQLite) that serves a fresh build of it:
// people register, talk, react, edit, delete and reply live; groups change; a user goes offline,
// keeps working, reloads offline and converges; deep links open the right message. Screenshots of
// the main screens at 1280 and 390 px land in test-results/screenshots/.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { Person, until, webNode } from './ui.ts';
import { EXPIRED_ACCESS, expireRefreshTokens } from '../sessionAge.ts';

// Segments of 100 messages: the long histories below span several, so scrolling back brings older
// segments from the replica (the app keeps only the latest in memory).
const web = webNode('web', { SEGMENT_SIZE: '100' });
let ada: Person;
let bob: Person;


describe('the web app', () => {
  it('is served compressed, hashed files cached for good and the rest revalidated', async () => {
    const index = await fetch(web.url, { headers: { 'accept-encoding': 'br, gzip' } });
    // The page carries its stylesheet and boot script (web/bootPlugin.ts): compressed too.
    expect(index.headers.get('content-encoding')).toBe('br');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const script = /data-app="(\/assets\/[^"]+\.js)"/.exec(await index.text())?.[1];
    if (!script) throw new Error('index.html loads no script');
    const original = await readFile(path.join(web.webDir, script), 'utf8');
    for (const encoding of ['br', 'gzip']) {
      const response = await fetch(web.url + script, { headers: { 'accept-encoding': encoding } });
      expect(response.headers.get('content-encoding')).toBe(encoding);
      expect(Number(response.headers.get('content-length'))).toBeLessThan(original.length / 3);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('vary')).toContain('Accept-Encoding');
      expect(await response.text()).toBe(original);
    }
    const plain = await fetch(web.url + script, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBe(null);
    expect(await plain.text()).toBe(original);
    expect((await fetch(`${web.url}/sw.js`)).headers.get('cache-control')).toBe('no-cache');
    // A chunk of an older build is gone, not answered with a page cached for a year.
    expect((await fetch(`${web.url}/assets/index-gone.js`)).status).toBe(404);
  });

  it('two people talk in a DM and see each other’s messages, reactions, edits, deletions, replies and receipts live', async () => {
    ada = await Person.register(web.browser, web.url, 'Ada');
    bob = await Person.register(web.browser, web.url, 'Bob');

    await ada.startDirect(bob);
    await ada.send('Morning Bob, is the **north gate** open?');
    // Bob's list shows the new conversation with its unread count before he opens it.
    await bob.page.locator('.conversation-item', { hasText: 'Ada' }).locator('.badge', { hasText: '1' }).waitFor();
    await bob.open('Ada');
    await bob.message('is the north gate open?').waitFor();
    expect(await bob.message('north gate').locator('strong').textContent()).toBe('north gate');

    // Bob replies to Ada's message; Ada sees the quote and the reply live.
    await bob.act('north gate', 'Reply');
    await bob.send('Yes, opened at 7. See https://example.com/gate-log');
    const reply = ada.message('opened at 7');
    await reply.waitFor();
    expect(await reply.locator('.quote').textContent()).toContain('Morning Bob');
    expect(await reply.locator('a').getAttribute('rel')).toBe('noopener noreferrer');
    expect(await reply.locator('a').getAttribute('target')).toBe('_blank');

    // A reaction from Ada shows on Bob's screen with who reacted.
    await ada.act('opened at 7', 'React');
    await ada.page.getByRole('button', { name: 'React with 👍' }).click();
    const chip = bob.message('opened at 7').locator('.reaction');
    await chip.waitFor();
    expect(await chip.getAttribute('aria-label')).toBe('👍 1, from Ada');

    // Ada edits her message; Bob sees the new text marked as edited.
    await ada.act('north gate', 'Edit');
    const field = ada.page.getByRole('textbox', { name: 'Edit message' });
    await field.fill('Morning Bob, is the **south gate** open?');
    await field.press('Enter');
    await bob.message('south gate').locator('.edited').waitFor();

    // Bob sends and deletes a message; Ada sees it deleted.
    await bob.send('wrong chat, sorry');
    await ada.message('wrong chat').waitFor();
    await bob.act('wrong chat', 'Delete');
    await bob.page.getByRole('button', { name: 'Yes, delete' }).click();
    await ada.page.locator('#root li.message .body.deleted').waitFor();
    expect(await ada.message('wrong chat').count()).toBe(0);

    // Bob has read everything: Ada sees "Seen by Bob"; every message is numbered.
    await ada.page.locator('.seen', { hasText: 'Seen by Bob' }).waitFor();
    await until('both screens show the same numbered history', async () => {
      const [a, b] = [await ada.history(), await bob.history()];
      return a.length === 3 && a.every((m) => m.state === 'sent') && JSON.stringify(a) === JSON.stringify(b);
    }, async () => [await ada.history(), await bob.history()]);

    // Typing shows on the other side. The server relays presence to contacts it knows of (its list
    // is cached for a few seconds, so a brand-new DM may miss the first keystrokes): keep typing.
    const bobField = bob.page.getByRole('textbox', { name: 'Message' });
    let keystrokes = 0;
    await until('Ada sees that Bob is typing', async () => {
      await bobField.fill(`let me check${'.'.repeat(++keystrokes % 5)}`);
      return ada.page.getByText('Bob is typing…').isVisible();
    });
    await bobField.fill('');
    await ada.page.getByText('Bob is typing…').waitFor({ state: 'detached' });

    await ada.message('opened at 7').hover();
    await ada.screenshots('chat');
    await ada.page.emulateMedia({ colorScheme: 'dark' });
    await ada.screenshots('chat-dark');
    await ada.page.emulateMedia({ colorScheme: 'light' });
  });

  it('a group of three: create, add, remove (the removed member loses access at once), rename', async () => {
    const cy = await Person.register(web.browser, web.url, 'Cy');
    await ada.page.getByRole('button', { name: 'New group' }).click();
    await ada.page.getByLabel('Group name').fill('Depot crew');
    await ada.page.getByLabel('Add people').fill(bob.username);
    await ada.page.getByRole('button', { name: new RegExp(bob.username) }).click();
    await ada.page.getByRole('button', { name: 'Create group' }).click();
    await ada.heading('Depot crew').waitFor();
    await ada.send('Welcome to the depot crew');
    await bob.open('Depot crew');
    await bob.message('Welcome to the depot crew').waitFor();

    // Ada adds Cy, who sees the group and its history.
    await ada.page.getByRole('button', { name: 'Members' }).click();
    await ada.page.getByLabel('Add people').fill(cy.username);
    await ada.page.getByRole('button', { name: new RegExp(cy.username) }).click();
    await ada.page.locator('.member', { hasText: 'Cy' }).waitFor();
    // The owner makes Cy an admin; everyone's member list shows the role.
    await ada.page.locator('.member', { hasText: 'Cy' }).getByRole('button', { name: 'Make admin' }).click();
    await ada.page.locator('.member', { hasText: 'Cy' }).getByText(/admin ·/).waitFor();
    await cy.open('Depot crew');
    await cy.message('Welcome to the depot crew').waitFor();

    // An @mention picked from the suggestions reaches Cy marked as a mention of Cy.
    const composer = ada.page.getByRole('textbox', { name: 'Message' });
    await composer.fill(`Thanks @${cy.username.slice(0, 2)}`);
    await ada.page.getByRole('option', { name: new RegExp(cy.username) }).waitFor();
    await composer.press('Enter');
    expect(await composer.inputValue()).toBe(`Thanks @${cy.username} `);
    await composer.press('End');
    await composer.pressSequentially('for joining');
    await composer.press('Enter');
    await cy.message('for joining').locator('.mention.mention-me', { hasText: `@${cy.username}` }).waitFor();

    // Ada removes Bob (after saying yes): his screen says so at once and he can no longer write.
    await ada.page.getByRole('button', { name: 'Remove Bob' }).click();
    await ada.page.getByRole('alertdialog', { name: 'Remove Bob?' }).getByRole('button', { name: 'Remove' }).click();
    await bob.page.getByText('You are no longer a member of this conversation').waitFor();
    expect(await bob.page.getByRole('textbox', { name: 'Message' }).isDisabled()).toBe(true);
    await until('the group leaves Bob’s list', async () => (await bob.page.locator('.conversation-item', { hasText: 'Depot crew' }).count()) === 0);
    await ada.send('Bob has moved to the south depot');
    await cy.message('Bob has moved').waitFor();
    expect(await bob.message('Bob has moved').count()).toBe(0);

    // Ada renames the group; Cy's screen and list follow.
    await ada.page.getByLabel('Group name').fill('North depot crew');
    await ada.page.getByRole('button', { name: 'Rename' }).click();
    await cy.heading('North depot crew').waitFor();
    await cy.page.locator('.conversation-item', { hasText: 'North depot crew' }).waitFor();
    await ada.screenshots('group-members');
    await cy.context.close();
  });

  it('offline: writes, edits and reactions survive an offline reload, then both sides converge in one order', async () => {
    await ada.open('Bob');
    await bob.open('Ada');
    await ada.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await ada.context.setOffline(true);
    await ada.page.getByTestId('connection-banner').getByText("You're offline").waitFor();

    await ada.send('offline one: fuel at 40%');
    await ada.send('offline two: gate locked');
    await ada.send('offline three: radio check');
    await ada.act('offline two', 'Edit');
    const field = ada.page.getByRole('textbox', { name: 'Edit message' });
    await field.fill('offline two: gate locked at 18:00');
    await field.press('Enter');
    await ada.act('offline one', 'React');
    await ada.page.getByRole('button', { name: 'React with 🎉' }).click();
    await ada.page.getByText(/5 changes waiting to be sent, saved on this device/).waitFor();
    expect(await ada.message('offline three').locator('.state').textContent()).toBe('Waiting for network');

    await bob.send('bob one: on my way');
    await bob.send('bob two: at the gate');
    await ada.screenshots('offline');

    await ada.page.reload();
    await ada.message('gate locked at 18:00').locator('.edited').waitFor();
    await ada.message('offline one').locator('.reaction', { hasText: '🎉' }).waitFor();
    await ada.message('offline three').waitFor();
    await ada.page.getByTestId('connection-banner').getByText("You're offline").waitFor();
    expect((await ada.history()).filter((m) => m.state === 'pending').map((m) => m.body)).toEqual([
      'offline one: fuel at 40%',
      'offline two: gate locked at 18:00',
      'offline three: radio check',
    ]);

    await ada.context.setOffline(false);
    await until(
      'both screens show the same eight numbered messages in the same order',
      async () => {
        const [a, b] = [await ada.history(), await bob.history()];
        return a.length === 8 && a.every((m) => m.state === 'sent') && JSON.stringify(a) === JSON.stringify(b);
      },
      async () => [await ada.history(), await bob.history()],
    );
    await bob.message('offline one').locator('.reaction', { hasText: '🎉' }).waitFor();
    await ada.page.getByTestId('connection-banner').getByText(/waiting/).waitFor({ state: 'detached' });
  });

  it('deep links open the message highlighted, also from a cold start offline; unknown links say so', async () => {
    const conversationId = bob.conversationId();
    const target = (await bob.history()).find((m) => m.body.startsWith('Yes, opened at 7'));
    if (!target) throw new Error('the reply is missing');
    const link = `/c/${conversationId}/m/${target.id}`;

    const tab = await bob.context.newPage();
    await tab.goto(link);
    await tab.locator(`[data-message-id="${target.id}"].highlight`).waitFor();
    await tab.close();

    await bob.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await bob.context.setOffline(true);
    const cold = await bob.context.newPage();
    await cold.goto(link);
    await cold.locator(`[data-message-id="${target.id}"].highlight`).waitFor();
    await cold.goto(`/c/${crypto.randomUUID()}`);
    await cold.getByRole('heading', { name: 'Conversation not found' }).waitFor();
    await cold.goto('/c/not-a-conversation');
    await cold.getByRole('heading', { name: 'No such conversation' }).waitFor();
    await cold.close();
    await bob.context.setOffline(false);
  });

  it('search finds messages offline with highlights and opens the conversation at the message', async () => {
    await ada.context.setOffline(true);
    await ada.page.getByRole('button', { name: 'Search messages' }).click();
    await ada.page.getByLabel('Search all messages').fill('gate');
    const hit = ada.page.locator('.search-hit', { hasText: 'gate locked at 18:00' });
    await hit.waitFor();
    expect(await hit.locator('mark').first().textContent()).toBe('gate');
    await ada.screenshots('search');
    await hit.click();
    await ada.page.locator('#root li.message.highlight', { hasText: 'gate locked at 18:00' }).waitFor();
    await ada.context.setOffline(false);
  });

  it('scrolls back through a long history, and jumps to the latest message', async () => {
    await ada.open('Bob');
    await ada.page.bringToFront();
    // Ada's second device (the SDK in Node) fills the conversation.
    const device = await OutpostClient.login({ url: web.url }, { username: ada.username, password: 'correct horse battery' });
    const chat = device.conversation(ada.conversationId());
    for (let i = 1; i <= 120; i++) chat.send(`history ${i}`);
    const first = ada.page.locator('#root li.message .body', { hasText: /^history 1$/ });
    await ada.message('history 120').waitFor();
    expect(await first.count()).toBe(0);
    const scroller = ada.page.locator('.message-scroller');
    await until('scrolling up reaches the first of them', async () => {
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
      if ((await first.count()) > 0) return true;
      // Headless Chromium does not always deliver scroll events to a page in the background; the
      // button at the top of the history does the same for keyboard users and here.
      // It goes away once the earlier messages are there, perhaps between looking and clicking:
      // then this round's click gives up and the next round looks again.
      const more = ada.page.getByRole('button', { name: 'Show earlier messages' });
      if ((await more.count()) > 0) await more.click({ timeout: 1_000 }).catch(() => undefined);
      return (await first.count()) > 0;
    }, async () => [await ada.page.locator('#root li.message').count(), await scroller.evaluate((el) => [el.scrollTop, el.scrollHeight, el.clientHeight]), ada.page.url()]);
    await ada.page.getByRole('button', { name: 'Jump to latest' }).click();
    await until('the newest message is in view again', async () => (await ada.message('history 120').isVisible()) && (await scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 60)));
    await until('every message from the other device is numbered', async () => (await ada.history()).every((m) => m.state === 'sent'));
    device.close();
  });

  it('renders a bounded window however far back you scroll: the newest rows are dropped and come back', async () => {
    await ada.open('Bob');
    await ada.page.bringToFront();
    const device = await OutpostClient.login({ url: web.url }, { username: ada.username, password: 'correct horse battery' });
    const chat = device.conversation(ada.conversationId());
    for (let i = 1; i <= 400; i++) chat.send(`window ${i}`);
    await ada.message('window 400').waitFor();
    const first = ada.page.locator('#root li.message .body', { hasText: /^window 1$/ });
    const newest = ada.page.locator('#root li.message .body', { hasText: /^window 400$/ });
    const scroller = ada.page.locator('.message-scroller');
    await until('scrolling up reaches the first of them', async () => {
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
      if ((await first.count()) > 0) return true;
      // It goes away once the earlier messages are there, perhaps between looking and clicking:
      // then this round's click gives up and the next round looks again.
      const more = ada.page.getByRole('button', { name: 'Show earlier messages' });
      if ((await more.count()) > 0) await more.click({ timeout: 1_000 }).catch(() => undefined);
      return (await first.count()) > 0;
    }, async () => [await ada.page.locator('#root li.message').count(), ada.page.url()]);
    // What is rendered stayed bounded: the newest were dropped on the way up.
    expect(await ada.page.locator('#root li.message').count()).toBeLessThanOrEqual(200);
    expect(await newest.count()).toBe(0);
    // Scrolling back down brings them back, a page at a time.
    await until('scrolling down brings the newest back', async () => {
      await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      if ((await newest.count()) > 0) return true;
      const later = ada.page.getByRole('button', { name: 'Show later messages' });
      if ((await later.count()) > 0) await later.dispatchEvent('click');
      return (await newest.count()) > 0;
    });
    expect(await ada.page.locator('#root li.message').count()).toBeLessThanOrEqual(200);
    expect(await first.count()).toBe(0);
    await until('every message from the other device is numbered', async () => (await ada.history()).every((m) => m.state === 'sent'));
    device.close();
  });

  it('screens a person sees first: sign-in and the conversation list', async () => {
    await ada.page.goto('/');
    await ada.page.locator('.conversation-item').first().waitFor();
    await ada.screenshots('conversation-list');
    const visitor = await web.browser.newContext({ baseURL: web.url });
    const page = await visitor.newPage();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await new Person('Visitor', '', visitor, page).screenshots('sign-in');
    await visitor.close();
  });

  it('stays signed in across a reload after the access token has expired (the token is refreshed first)', async () => {
    const stored = () => bob.page.evaluate(() => JSON.parse(localStorage.getItem('outpost.session') ?? '{}') as { accessToken: string; refreshToken: string });
    const before = await stored();
    // As if the page was reloaded long after the token was issued: it expired at the epoch.
    await bob.page.evaluate((session) => {
      localStorage.setItem('outpost.session', JSON.stringify({ ...session, accessToken: `x.${btoa(JSON.stringify({ exp: 1 }))}.x` }));
    }, before);
    await bob.page.reload();
    await bob.send('still signed in after the token expired');
    await bob.message('still signed in after the token expired').and(bob.page.locator('.sent')).waitFor();
    await until('the rotated session is stored for the next reload', async () => (await stored()).refreshToken !== before.refreshToken);
  });

  it('after weeks away the session ran out: it asks to sign in again, keeps what was written offline, and sends it then', async () => {
    await bob.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await bob.context.setOffline(true);
    await bob.page.getByTestId('connection-banner').getByText("You're offline").waitFor();
    await bob.send('written before the session ran out');
    await bob.page.getByText(/1 change waiting to be sent, saved on this device/).waitFor();
    // Weeks later: every refresh token of bob's has run out, and the stored access token too.
    const session = await bob.page.evaluate(() => JSON.parse(localStorage.getItem('outpost.session') ?? '{}') as { accessToken: string; user: { id: string } });
    await expireRefreshTokens({ dataDir: web.dataDir }, session.user.id);
    await bob.page.evaluate(([stored, accessToken]) => localStorage.setItem('outpost.session', JSON.stringify({ ...stored, accessToken })), [session, EXPIRED_ACCESS] as const);
    // The app starts again out of reach, then the network returns (the page before the reload
    // never reconnects with its own, still valid, access token: a device weeks away has none).
    await bob.page.reload();
    await bob.message('written before the session ran out').waitFor();
    await bob.context.setOffline(false);
    await bob.page.getByText('Your session on this device ran out while it was away').waitFor();
    await bob.screenshots('session-ran-out');
    await bob.page.getByLabel('Username').fill(bob.username);
    await bob.page.getByLabel('Password').fill('correct horse battery');
    await bob.page.getByRole('button', { name: 'Sign in' }).click();
    await bob.open('Ada');
    await bob.message('written before the session ran out').and(bob.page.locator('.sent')).waitFor();
    await ada.open('Bob');
    await ada.message('written before the session ran out').waitFor();
  });

  it('logging out wipes this device: the replica, the session and the drafts', async () => {
    const userId = await bob.page.evaluate(() => (JSON.parse(localStorage.getItem('outpost.session') ?? '{}') as { user?: { id: string } }).user?.id);
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('a draft that survives a reload, not a logout');
    await bob.page.reload();
    expect(await bob.page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('a draft that survives a reload, not a logout');
    await bob.page.getByRole('button', { name: 'Log out' }).click();
    await bob.page.getByRole('alertdialog', { name: 'Log out?' }).getByRole('button', { name: 'Log out' }).click();
    await bob.page.getByText('This device no longer holds your messages').waitFor();
    await until('the replica database is gone', async () =>
      bob.page.evaluate(async (id) => !(await indexedDB.databases()).some((db) => db.name === `outpost-replica-${id}`), userId),
    );
    expect(await bob.page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('outpost.')))).toEqual([]);
    await bob.page.reload();
    await bob.page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });
});
