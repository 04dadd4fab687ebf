// Learns the other person's name in every DM: the inbox titles a DM with it, and the DM's
// members say whose id that is.
import { useEffect } from 'react';
import type { ConversationListItem, OutpostClient } from '@outpost/client';
import { learn } from './people.ts';

export function useDirectNames(client: OutpostClient, list: readonly ConversationListItem[]): void {
  // The list changes with every message; resubscribe only when the DMs or their titles do.
  const key = JSON.stringify(list.filter((item) => item.kind === 'dm' && item.title).map((item) => [item.id, item.title]));
  useEffect(() => {
    const stops = (JSON.parse(key) as [string, string][]).map(([id, title]) =>
      client
        .conversation(id)
        .members()
        .subscribe((members) => {
          const other = members.find((m) => m.userId !== client.user.id);
          if (other) learn([{ id: other.userId, displayName: title }]);
        }),
    );
    return () => stops.forEach((stop) => stop());
  }, [client, key]);
}
