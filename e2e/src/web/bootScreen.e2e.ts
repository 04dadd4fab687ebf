// The boot screen, in real Chromium against a real server: after a reload, the conversation's
// latest messages are in the page before the app's bundle has run (a copy kept at the last visit),
// the app's own list replaces the copy in the same frame with the same messages, the copy can be
// neither clicked nor read aloud, it is kept per user and address only, and logout forgets it.
import { describe, expect, it } from 'vitest';
import { gradientPng } from '../fileFixtures.ts';
import { Person, screenshotDir, until, webNode } from './ui.ts';
import path from 'node:path';

const web = webNode('boot');

interface Seen {
  /** The copy's message texts when it appeared (null: no copy shown). */
  boot: string[] | null;
  inert: boolean;
  hidden: string | null;
  /** When it went: the app's own list at that moment. */
  appWhenGone: string[] | null;
  /** Whether the app had started (its root held anything) when the copy appeared. */
  appStarted: boolean;
  /** Where the last message sat, in the copy's first painted frame and then in the app's list (px from the top). */
  bootLastTop: number | null;
  appLastTop: number | null;
  /** Images in the copy: drawn from this page's blob: addresses, and thumbnails' placeholders. */
  bootImages: { blob: number; placeholders: number } | null;
}

// Runs before the page's scripts: watches for the copy and for its replacement.
const WATCH = `(() => {
  const seen = { boot: null, inert: false, hidden: null, appWhenGone: null, appStarted: false, bootLastTop: null, appLastTop: null, bootImages: null };
  window.__seen = seen;
  const texts = (root) => [...root.querySelectorAll('li.message .body')].map((b) => b.textContent);
  const lastTop = (root) => [...root.querySelectorAll('li.message')].at(-1)?.getBoundingClientRect().top ?? null;
  new MutationObserver(() => {
    const boot = document.getElementById('boot');
    if (boot && seen.boot === null) {
      seen.boot = texts(boot);
      seen.inert = boot.inert;
      seen.hidden = boot.getAttribute('aria-hidden');
      seen.appStarted = (document.getElementById('root')?.childElementCount ?? 0) > 0;
      seen.bootImages = { blob: boot.querySelectorAll('img[src^="blob:"]').length, placeholders: boot.querySelectorAll('img.placeholder').length };
    }
    if (!boot && seen.boot !== null && seen.appWhenGone === null) {
      seen.appWhenGone = texts(document.getElementById('root'));
      seen.appLastTop = lastTop(document.getElementById('root'));
    }
  }).observe(document, { subtree: true, childList: true });
  // Where the copy's last message is in its first painted frame: its rows off screen are not laid
  // out (content-visibility), so a layout forced before that frame places them approximately.
  new PerformanceObserver(() => {
    const boot = document.getElementById('boot');
    if (boot && seen.bootLastTop === null) seen.bootLastTop = lastTop(boot);
  }).observe({ type: 'paint' });
})();`;

describe('the boot screen', () => {
  it('shows the latest messages before the app runs, is replaced by the same list, and is forgotten at logout', async () => {
    const ada = await Person.register(web.browser, web.url, 'Ada');
    const bob = await Person.register(web.browser, web.url, 'Bob');
    await ada.startDirect(bob);
    const texts = ['first light at the pump', 'valve 3 replaced', 'north gate **locked**', 'crew leaves at six'];
    for (const text of texts) await ada.send(text);
    await until('Ada’s messages are numbered', async () => (await ada.history()).every((m) => m.state === 'sent'));

    await ada.page.addInitScript(WATCH);
    // Leaving the page keeps the copy; the reload shows it.
    await ada.page.reload();
    await ada.message('crew leaves at six').waitFor();
    await until('the copy is gone', async () => (await ada.page.locator('#boot').count()) === 0);
    const seen = (await ada.page.evaluate(() => (window as unknown as { __seen: Seen }).__seen)) as Seen;
    const shown = ['first light at the pump', 'valve 3 replaced', 'north gate locked', 'crew leaves at six'];
    expect(seen.boot).toEqual(shown);
    expect(seen.appStarted).toBe(false);
    expect(seen.inert).toBe(true);
    expect(seen.hidden).toBe('true');
    // The app's list took its place with the same messages, where they were: nothing jumps or goes missing.
    expect(seen.appWhenGone).toEqual(shown);
    expect(Math.abs((seen.bootLastTop ?? NaN) - (seen.appLastTop ?? NaN))).toBeLessThan(2);

    // A history longer than the screen: the copy holds the latest 50, at the bottom, as the app does.
    const more = Array.from({ length: 56 }, (_, i) => `reading ${i + 1} at the north well`);
    for (const text of more) await ada.type(text);
    await ada.message('reading 56 at the north well').waitFor();
    await until('Ada’s messages are numbered', async () => (await ada.history()).every((m) => m.state === 'sent'));
    await ada.page.reload();
    await ada.message('reading 56 at the north well').waitFor();
    await until('the copy is gone', async () => (await ada.page.locator('#boot').count()) === 0);
    const long = (await ada.page.evaluate(() => (window as unknown as { __seen: Seen }).__seen)) as Seen;
    expect(long.boot).toEqual([...shown, ...more].slice(-50));
    expect(long.appWhenGone?.slice(-50)).toEqual(long.boot);
    expect(Math.abs((long.bootLastTop ?? NaN) - (long.appLastTop ?? NaN))).toBeLessThan(2);

    // A picture among the latest messages: its thumbnail was drawn from a blob: address that is
    // gone after a reload, so the copy keeps its blurred placeholder, never a broken image.
    await ada.page.getByTestId('file-picker').setInputFiles([{ name: 'gauge.png', mimeType: 'image/png', buffer: Buffer.from(await gradientPng()) }]);
    await ada.type('gauge at noon');
    const pictured = ada.message('gauge at noon');
    await until('the picture is sent and its thumbnail shows', async () => (await pictured.locator('img.thumb').count()) === 1 && (await ada.history()).every((m) => m.state === 'sent'));
    await ada.page.reload();
    await ada.message('gauge at noon').waitFor();
    const copied = (await ada.page.evaluate(() => (window as unknown as { __seen: Seen }).__seen)) as Seen;
    expect(copied.boot?.at(-1)).toBe('gauge at noon');
    expect(copied.bootImages).toEqual({ blob: 0, placeholders: 1 });

    // Another address (the conversation list alone) shows no copy.
    await ada.page.goto('/');
    await ada.page.locator('.conversation-item').first().waitFor();
    expect((await ada.page.evaluate(() => (window as unknown as { __seen: Seen }).__seen)).boot).toBeNull();

    // A picture of the copy, as the page shows it before the app: the app's bundle held back.
    const still = await web.browser.newContext({ baseURL: web.url, viewport: { width: 1280, height: 800 } });
    const state = await ada.page.evaluate(() => ({ session: localStorage.getItem('outpost.session'), boot: localStorage.getItem('outpost.bootScreen') }));
    const frozen = await still.newPage();
    await frozen.route('**/assets/index-*.js', (route) => route.abort());
    await frozen.goto('/blank');
    await frozen.evaluate((saved) => {
      localStorage.setItem('outpost.session', saved.session ?? '');
      localStorage.setItem('outpost.bootScreen', saved.boot ?? '');
    }, state);
    await frozen.goto(JSON.parse(state.boot ?? '{}').path);
    await frozen.locator('#boot li.message').nth(3).waitFor();
    await frozen.screenshot({ path: path.join(screenshotDir, 'boot-screen-1280.png') });
    await still.close();

    // Logout forgets it with the replica.
    await ada.page.getByRole('button', { name: 'Log out', exact: true }).click();
    await ada.page.getByRole('alertdialog', { name: 'Log out?' }).getByRole('button', { name: 'Log out' }).click();
    await ada.page.getByText('This device no longer holds your messages').waitFor();
    expect(await ada.page.evaluate(() => localStorage.getItem('outpost.bootScreen'))).toBeNull();
    await ada.context.close();
    await bob.context.close();
  });
});
