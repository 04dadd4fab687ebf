// React's view of the SDK's live values: a component re-renders when the value it reads changes.
import { useCallback, useSyncExternalStore } from 'react';
import type { Live } from '@outpost/client';

/** The current value of `live`, kept up to date; `fallback` while there is none. */
export function useLive<T>(live: Live<T> | null | undefined, fallback: T): T {
  const subscribe = useCallback((onChange: () => void) => (live ? live.subscribe(onChange) : () => {}), [live]);
  return useSyncExternalStore(subscribe, () => (live ? live.get() : fallback));
}
