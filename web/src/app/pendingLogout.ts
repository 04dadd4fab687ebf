// A logout made offline still signs the session out on the server: its refresh token is kept here
// (localStorage, outside the wiped replica) and sent when the network returns, on this page or
// on the next start. A token the server no longer knows is simply forgotten.
import { OutpostClient, OutpostError } from '@outpost/client';

const KEY = 'outpost.pendingLogout';

function load(): string[] {
  try {
    const tokens = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(tokens) ? tokens.filter((t): t is string => typeof t === 'string') : [];
  } catch (error) {
    console.warn('outpost: dropping an unreadable list of pending logouts', error);
    return [];
  }
}

function save(tokens: readonly string[]): void {
  if (tokens.length === 0) localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, JSON.stringify(tokens));
}

const unreachable = (error: unknown) => error instanceof OutpostError && error.details?.offline === true;

/** Remembers a session to sign out on the server when it can be reached. */
export function queueLogout(refreshToken: string): void {
  save([...new Set([...load(), refreshToken])]);
}

/** Whether a revocation is still waiting for the network. */
export function logoutPending(): boolean {
  return load().length > 0;
}

let sending: Promise<void> | null = null;

/** Sends every queued revocation; those that cannot reach the server stay queued. */
export function sendQueuedLogouts(url: string): Promise<void> {
  sending ??= (async () => {
    try {
      for (const token of load()) {
        try {
          await OutpostClient.revoke({ url }, token);
        } catch (error) {
          if (unreachable(error)) return;
          console.warn('outpost: the server refused a queued logout; forgetting it', error);
        }
        save(load().filter((t) => t !== token));
      }
    } finally {
      sending = null;
    }
  })();
  return sending;
}

/** How often to try again while a revocation waits (the network may return without an event). */
const RETRY_MS = 30_000;

/** Sends queued revocations now, when the browser comes back online, and every half minute. */
export function keepSendingQueuedLogouts(url: string): () => void {
  const send = () => {
    if (logoutPending()) void sendQueuedLogouts(url);
  };
  send();
  window.addEventListener('online', send);
  const timer = setInterval(send, RETRY_MS);
  return () => {
    window.removeEventListener('online', send);
    clearInterval(timer);
  };
}
