// The signed-in session survives reloads in localStorage. Refresh tokens rotate on every use and a
// reused one signs the device out, so the SDK saves every rotation here (its `sessionStore`), and
// tabs of the same browser share the newest one.
import type { SessionStore } from '@outpost/client';
import type { Session } from '@outpost/shared-schema';

const KEY = 'outpost.session';

export function loadSession(): Session | null {
  const raw = localStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    return typeof session?.refreshToken === 'string' && typeof session.user?.id === 'string' ? session : null;
  } catch (error) {
    console.warn('outpost: dropping an unreadable stored session', error);
    localStorage.removeItem(KEY);
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function forgetSession(): void {
  localStorage.removeItem(KEY);
}

/** The store handed to the SDK; after `close()` (logout) nothing is saved any more. */
export function openSessionStore(): SessionStore & { close(): void } {
  let open = true;
  return {
    load: () => (open ? loadSession() : null),
    save: (session) => {
      if (open) saveSession(session);
    },
    close: () => {
      open = false;
    },
  };
}
