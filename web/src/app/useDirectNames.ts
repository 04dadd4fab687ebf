// Learns the names of everyone in the user's conversations: the server document lists each
// member with their username and display name, so names show offline too. (A DM's inbox title
// is the other person's name: kept as a fallback for documents written before members had names.)
// Former members' names come from the same document.
import { useEffect } from 'react';
import type { ConversationListItem, OutpostClient } from '@outpost/client';
import { learn, type Person } from './people.ts';

export function useDirectNames(client: OutpostClient, list: readonly ConversationListItem[]): void {
  // The list changes with every message; resubscribe only when the conversations or titles do.
  const key = JSON.stringify(list.map((item) => [item.id, item.kind === 'dm' ? item.title : '']));
  useEffect(() => {
    const stops = (JSON.parse(key) as [string, string][]).map(([id, dmTitle]) =>
      client
        .conversation(id)
        .members()
        .subscribe((members) => {
          const people: Person[] = members
            .filter((m) => m.displayName)
            .map((m) => ({ id: m.userId, displayName: m.displayName, username: m.username }));
          const other = members.find((m) => m.userId !== client.user.id);
          if (other && !other.displayName && dmTitle) people.push({ id: other.userId, displayName: dmTitle });
          learn(people);
        }),
    );
    // People who left keep their names, so their old messages keep an author.
    const former = (JSON.parse(key) as [string, string][]).map(([id]) =>
      client
        .conversation(id)
        .formerMembers()
        .subscribe((names) => learn([...names].filter(([, name]) => name).map(([userId, name]) => ({ id: userId, displayName: name })))),
    );
    return () => [...stops, ...former].forEach((stop) => stop());
  }, [client, key]);
}
