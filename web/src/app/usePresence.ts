// Who is online, as this device can tell. Only a connected device hears presence: while this one
// is offline, others' presence is unknown (its last word would be stale) and you are offline.
// Every screen asks here, so the header, the member panel and the list never disagree.
import { useMemo } from 'react';
import { useClient } from './ClientContext.ts';
import { useLive } from './useLive.ts';

export interface PresenceView {
  /** Whether this device is connected (and so knows who else is). */
  connected: boolean;
  /** Online or not; undefined when this device cannot know. */
  online(userId: string): boolean | undefined;
}

const NOBODY: readonly string[] = [];

export function usePresence(): PresenceView {
  const client = useClient();
  const connected = useLive(client.status(), 'connecting') === 'connected';
  const others = useLive(client.online(), NOBODY);
  return useMemo(() => {
    const set = new Set<string>(others);
    return {
      connected,
      online: (userId: string) => (userId === client.user.id ? connected : connected ? set.has(userId) : undefined),
    };
  }, [client, connected, others]);
}
