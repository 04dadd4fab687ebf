// Search in the web app, in real Chromium against a real server (SQLite): online, the one search
// box lists what the device holds and what only the server has found (a conversation this device
// has not synced), each message once; offline, it searches the device and says that results may
// be incomplete until the backfill is done. Screenshots: search-merged-*, search-offline-*.
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { expectAccessible } from './axe.ts';
import { Person, shoot, until, webNode } from './ui.ts';

const web = webNode('search');
let bob: OutpostClient | undefined;

afterAll(() => bob?.close());

describe('search in the web app', () => {
  it('merges what the device and the server find, each message once, and says when it searches the device only', async () => {
    const ada = await Person.register(web.browser, web.url, 'Ada');
    bob = await OutpostClient.register({ url: web.url }, { username: `bob${process.pid}${Date.now() % 100000}`, password: 'correct horse battery' });
    const [adaUser] = await bob.findUsers(ada.username);
    if (!adaUser) throw new Error('ada is not found by username');

    // A DM the device syncs as usual.
    const dm = bob.conversation(await bob.openDirect(adaUser.id));
    const synced = dm.send('pump seal replaced at the north gate');
    await ada.page.locator('.conversation-item', { hasText: 'bob' }).first().waitFor();
    // The device holds the message itself, not only its conversation's entry in the list (CI once
    // found it only on the server after the reload: the list had come before the message).
    await ada.open(bob.user.username);
    await ada.message('north gate').waitFor();

    // From now on the device's sync socket is refused; HTTP still works. What Bob writes in a new
    // group reaches the server but not this device.
    await ada.context.routeWebSocket(/\/sync/, (socket) => socket.close());
    await ada.page.reload();
    await ada.page.getByRole('button', { name: 'Search messages' }).waitFor();
    const crew = bob.conversation(await bob.createGroup('crew', [adaUser.id]));
    const unsynced = crew.send('pump pressure logged in the crew book');
    await until('the group message is numbered', async () => crew.messages().get().some((m) => m.id === unsynced && m.seq !== null));

    await ada.page.getByRole('button', { name: 'Search messages' }).click();
    await ada.page.getByLabel('Search all messages').fill('pump');
    const fromServer = ada.page.locator(`li[data-found-in="server"] .search-hit`, { hasText: 'pressure logged' });
    await fromServer.waitFor();
    expect(await fromServer.locator('mark').first().textContent()).toBe('pump');
    expect(await fromServer.textContent()).toContain('on the server');
    const both = ada.page.locator('li[data-found-in="both"] .search-hit', { hasText: 'north gate' });
    await both.waitFor();
    expect(await both.getAttribute('href')).toBe(`/c/${dm.id}/m/${synced}`);
    expect(await ada.page.locator('.search-hit').count()).toBe(2);
    await ada.page.getByText('Including 1 found on the server that this device has not synced yet.').waitFor();
    await shoot(ada.page, 'search-merged');
    await expectAccessible(ada.page, 'search with server results');

    // The server result opens its conversation at that message.
    const link = await fromServer.getAttribute('href');
    expect(link).toBe(`/c/${crew.id}/m/${unsynced}`);

    // Offline: the same box searches the device, and says what that means.
    await ada.context.setOffline(true);
    const scope = ada.page.getByTestId('search-scope');
    await until('the screen says it searches the device only', async () => ((await scope.textContent()) ?? '').startsWith('Offline: searching'));
    expect(await ada.page.locator('.search-hit').count()).toBe(1);
    expect(await ada.page.locator('.search-hit').first().textContent()).toContain('north gate');
    const text = (await scope.textContent()) ?? '';
    // The group was never synced here, so the backfill is not done.
    expect(text).toMatch(/^Offline: searching this device only\. Results may be incomplete until the backfill is done \(\d+ of \d+ conversations synced\)\.$/);
    await shoot(ada.page, 'search-offline');
    await expectAccessible(ada.page, 'search offline');
    await ada.context.setOffline(false);
  });
});
