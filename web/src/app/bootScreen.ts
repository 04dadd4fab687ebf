// The boot screen: a copy of the open conversation's screen (its latest messages, at the bottom),
// kept in localStorage so that the next cold start shows it before the app's bundle has run
// (web/public/boot.js paints it). The app replaces it with its own list as soon as that holds as
// many messages, in the same frame, so the swap is not seen. It is only a picture: inert, never
// read aloud, saved from what this device showed, and forgotten at logout with the replica.
const KEY = 'outpost.bootScreen';
/** Messages kept in the copy: what a screen shows, and what the cold-start target counts. */
const ROWS = 50;
/** Saves at most this often while the conversation changes (and when the page is hidden). */
const SAVE_EVERY_MS = 2000;
/** An app that cannot show the conversation (gone, moved) takes the picture away after this. */
const GIVE_UP_MS = 3000;

interface Saved {
  userId: string;
  path: string;
  /** The phone layout (the app's 720 px breakpoint): a copy is shown in the layout it was taken in. */
  narrow: boolean;
  /** Messages in the copy: the app's list replaces it once it shows as many. */
  rows: number;
  html: string;
}

let pending: { userId: string; timer: ReturnType<typeof setTimeout> } | null = null;
let listening = false;

/** The open conversation's screen as it is now, reduced to its latest messages, or null when there is no list. */
function capture(userId: string): Saved | null {
  const shell = document.querySelector('#root .shell');
  if (!shell?.querySelector('ol.messages li.message')) return null;
  const copy = shell.cloneNode(true) as HTMLElement;
  // What is not the conversation itself: the status notice, menus and dialogs, the jump button;
  // and each message's actions, hidden until hovered (half of the copy's layout, for nothing).
  for (const node of copy.querySelectorAll('.status-notices, [role="dialog"], [role="alertdialog"], [role="menu"], .toast, .jump-latest, .message-actions')) node.remove();
  const list = copy.querySelector('ol.messages') as HTMLOListElement;
  const messages = list.querySelectorAll('li.message');
  // Everything before the first message kept goes, except what leads up to it (its day line,
  // events, the "New messages" line), as the app's list shows them.
  let first: Element | null | undefined = messages[Math.max(0, messages.length - ROWS)];
  while (first?.previousElementSibling && !first.previousElementSibling.matches('li.message')) first = first.previousElementSibling;
  while (first && list.firstElementChild && list.firstElementChild !== first) list.firstElementChild.remove();
  for (const node of copy.querySelectorAll('[tabindex]')) node.removeAttribute('tabindex');
  // Pictures this page drew from the replica (blob: addresses) are gone in the next one: a broken
  // image with its name would show. A thumbnail's blurred placeholder (a data: address) stays in
  // its place, at its size.
  for (const image of copy.querySelectorAll('img')) if (image.getAttribute('src')?.startsWith('blob:')) image.remove();
  // A history longer than the screen shows its end (as the app does, scrolled to the bottom); a
  // short one stays at the top. Decided here, so that boot.js needs no layout to scroll.
  const scroller = shell.querySelector('.message-scroller');
  if (scroller && scroller.scrollHeight > scroller.clientHeight) copy.querySelector('.message-scroller')?.classList.add('boot-end');
  return { userId, path: location.pathname, narrow: matchMedia('(max-width: 720px)').matches, rows: Math.min(messages.length, ROWS), html: copy.outerHTML };
}

function saveNow(userId: string): void {
  const saved = capture(userId);
  if (!saved) return;
  try {
    localStorage.setItem(KEY, JSON.stringify(saved));
  } catch (error) {
    // Storage full: the next cold start shows the app's own loading instead. Nothing is lost.
    console.warn('outpost: cannot keep the boot screen', error);
  }
}

/**
 * The conversation on screen changed while its latest messages are shown: keep a copy for the
 * next cold start, within SAVE_EVERY_MS, and at once when the page is hidden or closed.
 */
export function keepBootScreen(userId: string): void {
  if (!listening) {
    listening = true;
    const flush = () => {
      if (!pending) return;
      clearTimeout(pending.timer);
      const { userId: owner } = pending;
      pending = null;
      saveNow(owner);
    };
    addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush());
  }
  if (pending?.userId === userId) return;
  if (pending) clearTimeout(pending.timer);
  pending = {
    userId,
    timer: setTimeout(() => {
      pending = null;
      saveNow(userId);
    }, SAVE_EVERY_MS),
  };
}

/** The conversation was left (scrolled back, another screen): a change now is not what the next start shows. */
export function holdBootScreen(): void {
  if (pending) clearTimeout(pending.timer);
  pending = null;
}

/** Messages the boot screen on display shows (0: none on display). */
export function bootScreenRows(): number {
  const boot = document.getElementById('boot');
  return boot ? Number(boot.dataset.rows ?? 0) : 0;
}

/** Takes the boot screen away: the app shows the real thing now (or cannot show it). */
export function dismissBootScreen(): void {
  document.getElementById('boot')?.remove();
}

/** Whatever happens, the picture goes once the app has had its chance to show the conversation. */
export function dismissBootScreenLater(): void {
  if (document.getElementById('boot')) setTimeout(dismissBootScreen, GIVE_UP_MS);
}

/** Logout and erasure: the copy holds message text, and goes with the replica. */
export function forgetBootScreen(): void {
  holdBootScreen();
  localStorage.removeItem(KEY);
  dismissBootScreen();
}
