// The web app while its user is away or offline, in real Chromium against a real server:
// logging out with unsent work warns and loses nothing unless told to, and the server hears of a
// logout made offline when the network returns; the status notice never moves the page and shows
// only for work that really waits (Layout Instability API); notifications for DMs and mentions
// reach a page in the background through the service worker, respect mute and do not disturb,
// and open the message when clicked; presence and the list's pending marker tell the truth.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Person, until, webNode } from './ui.ts';

const web = webNode('away');

const focusedLabel = (page: Page) => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');

async function refreshStatus(refreshToken: string): Promise<number> {
  const response = await fetch(`${web.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) });
  return response.status;
}

describe('away from the app', () => {
  it('logging out with unsent work warns with what is waiting; nothing is lost unless told; an offline logout reaches the server later', async () => {
    const ada = await Person.register(web.browser, web.url, 'Ada');
    const bob = await Person.register(web.browser, web.url, 'Bob');
    await ada.startDirect(bob);
    await ada.send('before going offline');
    await ada.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    // The warning counts what waits: this message must have been sent before the network goes.
    await until('the first message is sent', async () => (await ada.history()).some((m) => m.body === 'before going offline' && m.state === 'sent'));

    await ada.context.setOffline(true);
    await ada.page.getByText("You're offline").waitFor();
    await ada.send('offline one');
    await ada.send('offline two');
    await ada.send('offline three');
    await ada.act('before going offline', 'React');
    await ada.page.getByRole('button', { name: 'React with 👍' }).click();

    const logOut = ada.page.getByRole('button', { name: 'Log out', exact: true });
    await logOut.click();
    const warning = ada.page.getByRole('alertdialog', { name: 'Log out with unsent work?' });
    await warning.getByText('3 messages and 1 other change (edits, deletions, reactions) have not been sent.').waitFor();
    await warning.getByText('They will be sent when this device is back online').waitFor();
    // The safe answer has the focus; choosing it keeps everything and gives the focus back.
    expect(await focusedLabel(ada.page)).toBe('Send them first');
    await warning.getByRole('button', { name: 'Send them first' }).click();
    await warning.waitFor({ state: 'detached' });
    expect(await focusedLabel(ada.page)).toBe('Log out');
    // Escape closes it the same way.
    await logOut.click();
    await warning.waitFor();
    await ada.page.keyboard.press('Escape');
    await warning.waitFor({ state: 'detached' });
    expect(await focusedLabel(ada.page)).toBe('Log out');

    // Back online, everything reaches Bob: nothing was lost.
    await ada.context.setOffline(false);
    await bob.open('Ada');
    for (const text of ['offline one', 'offline two', 'offline three']) await bob.message(text).waitFor();
    await bob.message('before going offline').locator('.reaction', { hasText: '👍' }).waitFor();
    await until('Ada’s outbox is empty', async () => (await ada.history()).every((m) => m.state === 'sent'));
    // With nothing waiting, logging out still asks first.
    await logOut.click();
    await ada.page.getByRole('alertdialog', { name: 'Log out?' }).getByRole('button', { name: 'Cancel' }).click();

    // Offline again, Ada logs out anyway: the local copy goes at once, the revocation waits.
    await ada.context.setOffline(true);
    await ada.page.getByText("You're offline").waitFor();
    await ada.send('lost by choice');
    const { refreshToken } = await ada.page.evaluate(() => JSON.parse(localStorage.getItem('outpost.session') ?? '{}') as { refreshToken: string });
    await logOut.click();
    await ada.page.getByRole('alertdialog', { name: 'Log out with unsent work?' }).getByText('1 message has not been sent.').waitFor();
    await ada.page.getByRole('button', { name: 'Log out anyway' }).click();
    await ada.page.getByText('This device no longer holds your messages').waitFor();
    // The revocation is queued once the attempt to send it has failed (the notice shows before).
    const queued = () => ada.page.evaluate(() => JSON.parse(localStorage.getItem('outpost.pendingLogout') ?? '[]') as string[]);
    await until('the revocation is queued', async () => (await queued()).length > 0, queued);
    expect(await queued()).toEqual([refreshToken]);

    await ada.context.setOffline(false);
    await until('the queued logout is sent', async () => (await ada.page.evaluate(() => localStorage.getItem('outpost.pendingLogout'))) === null);
    expect(await refreshStatus(refreshToken)).toBe(401);
    expect(await bob.message('lost by choice').count()).toBe(0);
    await ada.context.close();
    await bob.context.close();
  });

  it('the status notice never moves the page and shows only for work that has waited', async () => {
    const cy = await Person.register(web.browser, web.url, 'Cy');
    const dee = await Person.register(web.browser, web.url, 'Dee');
    await cy.startDirect(dee);
    await cy.send('first');
    await dee.open('Cy');
    await cy.page.getByTestId('connection-banner').and(cy.page.locator('.hidden')).waitFor({ state: 'attached' });

    // Every layout shift, and every time the notice appears with how long the oldest of Cy's
    // messages had been waiting then (or how long the browser had been offline).
    await cy.page.evaluate(() => {
      const watch = { shifts: [] as { value: number; sources: string[] }[], shown: [] as { text: string; waitedMs: number }[] };
      (window as unknown as { watch: typeof watch }).watch = watch;
      // What moves inside the history as messages arrive, are numbered and read is the history's
      // own business; everything else (the headers, the list, the composer, the notice) must stay.
      const describeNode = (node: Node | null | undefined) => {
        const element = node instanceof Element ? node : node?.parentElement;
        return element ? `${element.closest('ol.messages') ? 'history: ' : ''}${element.tagName.toLowerCase()}.${element.className}` : '?';
      };
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean; sources?: { node?: Node | null }[] })[]) {
          if (!entry.hadRecentInput) watch.shifts.push({ value: entry.value, sources: (entry.sources ?? []).map((s) => describeNode(s.node)) });
        }
      }).observe({ type: 'layout-shift', buffered: false });
      const pendingSince = new Map<string, number>();
      let offlineSince: number | null = navigator.onLine ? null : performance.now();
      window.addEventListener('offline', () => (offlineSince = performance.now()));
      window.addEventListener('online', () => (offlineSince = null));
      let visible = false;
      new MutationObserver(() => {
        const now = performance.now();
        const pending = new Set<string>();
        for (const row of document.querySelectorAll('li.message.mine.pending')) pending.add(row.getAttribute('data-message-id') ?? '');
        for (const id of pending) if (!pendingSince.has(id)) pendingSince.set(id, now);
        for (const id of [...pendingSince.keys()]) if (!pending.has(id)) pendingSince.delete(id);
        const banner = document.querySelector('[data-testid="connection-banner"]');
        const nowVisible = !!banner && !banner.classList.contains('hidden');
        if (nowVisible && !visible) {
          const oldest = Math.min(now, ...pendingSince.values());
          watch.shown.push({ text: banner.textContent ?? '', waitedMs: Math.max(now - oldest, offlineSince === null ? 0 : now - offlineSince) });
        }
        visible = nowVisible;
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    });

    for (let i = 1; i <= 5; i++) {
      await cy.send(`cy says ${i}`);
      await dee.send(`dee says ${i}`);
      await cy.message(`dee says ${i}`).waitFor();
    }
    // Offline, the notice does appear (after a moment), and still nothing moves.
    await cy.context.setOffline(true);
    await cy.send('while offline');
    await cy.page.getByTestId('connection-banner').getByText("You're offline").waitFor();
    await cy.context.setOffline(false);
    await cy.page.getByTestId('connection-banner').and(cy.page.locator('.hidden')).waitFor({ state: 'attached' });
    await until('the offline message is numbered', async () => (await cy.history()).every((m) => m.state === 'sent'));

    const watch = await cy.page.evaluate(() => (window as unknown as { watch: { shifts: { value: number; sources: string[] }[]; shown: { text: string; waitedMs: number }[] } }).watch);
    // The notice pushed the whole app down by 32 px before (a shift of 0.25 over five messages);
    // now nothing outside the history moves: sub-pixel reflow of a node already gone at most.
    const outside = watch.shifts.filter((shift) => shift.sources.some((source) => !source.startsWith('history: ')));
    expect(outside.reduce((sum, shift) => sum + shift.value, 0), JSON.stringify(outside)).toBeLessThan(0.001);
    expect(watch.shown.length).toBeGreaterThan(0);
    for (const shown of watch.shown) expect(shown.waitedMs, JSON.stringify(watch.shown)).toBeGreaterThanOrEqual(1000);
    await cy.context.close();
    await dee.context.close();
  });

  it('notifies a page in the background of DMs and mentions, not of muted or other group chatter, and a click opens the message', async () => {
    const ed = await Person.register(web.browser, web.url, 'Ed');
    const fay = await Person.register(web.browser, web.url, 'Fay');
    // Not asked on load: the offer comes once Fay has said something, and "Not now" is kept.
    expect(await fay.page.locator('.notify-prompt').count()).toBe(0);
    await fay.startDirect(ed);
    await fay.send('hi Ed');
    await fay.page.getByRole('heading', { name: 'Know when they answer' }).waitFor();
    await fay.page.getByRole('button', { name: 'Not now' }).click();
    await fay.page.reload();
    await fay.message('hi Ed').waitFor();
    expect(await fay.page.locator('.notify-prompt').count()).toBe(0);
    expect(await fay.page.evaluate(() => Notification.permission)).toBe('default');
    await fay.createGroup('Night shift', [ed]);
    await fay.send('group opened');

    await ed.context.grantPermissions(['notifications']);
    await ed.open('Night shift');
    await ed.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const groupId = ed.conversationId();
    // Ed switches to another tab: his Outpost page is in the background (not focused).
    const cdp = await ed.context.newCDPSession(ed.page);
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    const elsewhere = await ed.context.newPage();
    const toBackground = async () => {
      await ed.page.bringToFront();
      await elsewhere.bringToFront();
      expect(await ed.page.evaluate(() => document.hasFocus())).toBe(false);
    };
    await toBackground();
    const shown = () =>
      ed.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, url: (n.data as { url: string }).url })));

    await fay.open('Night shift');
    await fay.send('group chatter nobody needs to hear');
    await fay.open(ed.name);
    await fay.send('are you there?');
    await fay.open('Night shift');
    await fay.send(`@${ed.username} please check the pump`);
    await until('the DM and the mention are notified', async () => (await shown()).length >= 2, shown);
    const notes = await shown();
    expect(notes.map((n) => [n.title, n.body]).sort()).toEqual([['Fay', 'are you there?'], ['Fay in Night shift', `@${ed.username} please check the pump`]].sort());
    await until('the tab title counts what Ed has not read', async () => /^\(\d+\) Outpost$/.test(await ed.page.title()));

    // Clicking the mention's notification opens it in Ed's tab (the worker asks the page to go there).
    const mention = notes.find((n) => n.title.includes('Night shift'))!;
    expect(mention.url).toMatch(new RegExp(`^/c/${groupId}/m/`));
    const [worker] = ed.context.serviceWorkers();
    if (!worker) throw new Error('no service worker');
    await worker.evaluate(async (url) => {
      const scope = self as unknown as { registration: ServiceWorkerRegistration; openNotification(n: Notification): Promise<void> };
      const notification = (await scope.registration.getNotifications()).find((n) => (n.data as { url: string }).url === url);
      if (!notification) throw new Error('the notification is gone');
      await scope.openNotification(notification);
    }, mention.url);
    await until('Ed’s tab shows the mentioned message', async () => new URL(ed.page.url()).pathname === mention.url);
    await ed.page.locator('#root li.message.highlight', { hasText: 'please check the pump' }).waitFor();

    // Ed mutes the DM (for all his devices); a DM then notifies nothing, while a mention still does.
    await ed.open(fay.name);
    await ed.page.getByRole('button', { name: 'Details' }).click();
    await ed.page.getByLabel('Notify me about').selectOption('none');
    await ed.heading(fay.name).locator('xpath=..').getByText('Muted').waitFor();
    await ed.page.locator('.conversation-item', { hasText: fay.name }).locator('.icon').waitFor();
    await toBackground();
    await fay.open(ed.name);
    await fay.send('this one is muted');
    await fay.open('Night shift');
    await fay.send(`@${ed.username} second mention`);
    await until('the second mention is notified', async () => (await shown()).some((n) => n.body.includes('second mention')), shown);
    expect((await shown()).some((n) => n.body === 'this one is muted')).toBe(false);

    // Do not disturb: nothing at all until it ends, though the message arrives.
    await ed.page.getByRole('button', { name: 'Notifications' }).click();
    await ed.page.getByRole('button', { name: 'For 1 hour' }).click();
    await ed.page.getByText(/^On until /).waitFor();
    await ed.page.getByRole('dialog', { name: 'Notifications' }).getByRole('button', { name: 'Close' }).click();
    await ed.page.getByText(/^Do not disturb until /).waitFor();
    await toBackground();
    const before = (await shown()).length;
    const title = await ed.page.title();
    await fay.send(`@${ed.username} during do not disturb`);
    // The title's count is drawn from the same list change that would have notified.
    await until('the mention arrives (the title counts it)', async () => (await ed.page.title()) !== title);
    expect(await ed.page.evaluate(() => document.hasFocus())).toBe(false);
    expect((await shown()).length).toBe(before);
    await ed.context.close();
    await fay.context.close();
  });

  it('a browser whose clock is two hours ahead is notified, and dates what it sends on the server’s clock', async () => {
    const gus = await Person.register(web.browser, web.url, 'Gus', { clockAheadMs: 2 * 3_600_000 });
    const hal = await Person.register(web.browser, web.url, 'Hal');
    expect(await gus.page.evaluate(() => Date.now()) - Date.now()).toBeGreaterThan(3_600_000);
    await hal.startDirect(gus);
    await hal.send('first');
    await gus.context.grantPermissions(['notifications']);
    await gus.open(hal.name);
    await gus.message('first').waitFor();
    await gus.send('from the wrong clock');
    await hal.message('from the wrong clock').waitFor();
    // Hal's app shows the time Gus sent it at, by the true clock, not two hours on.
    const dated = await hal.message('from the wrong clock').locator('time').first().getAttribute('datetime');
    expect(Math.abs(Date.parse(dated ?? '') - Date.now())).toBeLessThan(120_000);
    await gus.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const cdp = await gus.context.newCDPSession(gus.page);
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    const elsewhere = await gus.context.newPage();
    await gus.page.bringToFront();
    await elsewhere.bringToFront();
    const shown = () => gus.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.body));
    await hal.send('are you there?');
    // Before, the app took every new message for older than its own start, and notified of none.
    await until('gus is notified', async () => (await shown()).includes('are you there?'), shown);
    await gus.context.close();
    await hal.context.close();
  });

  it('presence agrees with itself, and says so when you are offline; the list marks only your own pending message', async () => {
    const gus = await Person.register(web.browser, web.url, 'Gus');
    const hal = await Person.register(web.browser, web.url, 'Hal');
    const ivy = await Person.register(web.browser, web.url, 'Ivy');
    await gus.createGroup('Yard', [hal, ivy]);
    await gus.send('yard check');
    await ivy.context.close(); // Ivy is away
    await hal.open('Yard');
    const subtitle = gus.page.locator('.conversation-heading .muted');
    await until('the header counts Gus and Hal online', async () => (await subtitle.textContent()) === '3 members · 2 online', async () => subtitle.textContent());
    await gus.page.getByRole('button', { name: 'Members' }).click();
    expect(await gus.page.locator('.member', { hasText: /· online/ }).count()).toBe(2);

    await gus.startDirect(hal);
    await gus.send('hello Hal');
    await hal.open(gus.name);
    await hal.send('On it, boss');
    await gus.message('On it, boss').waitFor();
    await gus.context.setOffline(true);
    await until('the DM header says Gus is the one offline', async () => (await subtitle.textContent()) === 'You are offline · their status is unknown');
    await gus.send('see you at six');
    const preview = gus.page.locator('.conversation-item', { hasText: hal.name }).locator('.conversation-preview');
    await until('the list previews Gus’s own pending message', async () => (await preview.textContent()) === '⏳ You: see you at six', async () => preview.textContent());
    await gus.open('Yard');
    await until('the group header says Gus is offline', async () => (await subtitle.textContent()) === '3 members · you are offline');
    await gus.context.setOffline(false);
    await until('the pending mark goes once sent', async () => (await preview.textContent()) === 'You: see you at six', async () => preview.textContent());
    await gus.context.close();
    await hal.context.close();
  });
});
