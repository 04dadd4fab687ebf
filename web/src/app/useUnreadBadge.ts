// The unread count where the user sees it without looking at the app: in the tab's title
// ("(3) Outpost") and on the installed app's icon (the Badging API, where the browser has it).
// Muted conversations do not count.
import { useEffect } from 'react';
import type { OutpostClient } from '@outpost/client';
import { useLive } from './useLive.ts';

const TITLE = 'Outpost';

interface Badging {
  setAppBadge?(count?: number): Promise<void>;
  clearAppBadge?(): Promise<void>;
}

export function useUnreadBadge(client: OutpostClient): number {
  const list = useLive(client.conversations(), []);
  const levels = useLive(client.notifyLevels(), new Map());
  const unread = list.reduce((sum, item) => sum + (levels.get(item.id) === 'none' ? 0 : item.unread), 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread > 999 ? '999+' : unread}) ${TITLE}` : TITLE;
    const badging = navigator as Badging;
    const done = unread > 0 ? badging.setAppBadge?.(unread) : badging.clearAppBadge?.();
    // Browsers without an installed app refuse; the title carries the count anyway.
    done?.catch((error: unknown) => console.debug('outpost: no app badge', error));
  }, [unread]);
  // Signed out: no count left behind.
  useEffect(
    () => () => {
      document.title = TITLE;
      (navigator as Badging).clearAppBadge?.().catch((error: unknown) => console.debug('outpost: no app badge', error));
    },
    [],
  );
  return unread;
}
