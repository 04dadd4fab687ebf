// Watches the conversation list for messages that arrive while the app runs and notifies the ones
// the user wants to hear about (see notifications.ts). The inbox is what the server keeps per
// user, so every conversation is watched without opening any; messages already there when the
// app starts, or that arrive while it is being looked at, notify nobody.
import { useEffect } from 'react';
import type { ConversationListItem, OutpostClient } from '@outpost/client';
import { nameOf } from './people.ts';
import { plainText } from './markup.ts';
import { appFocused, notificationsSupported, shouldNotify, showNotification, type Incoming } from './notifications.ts';
import { playChime } from './chime.ts';
import { now } from './time.ts';

interface Seen {
  messageId: string | undefined;
  mentions: number;
}

export function useNotifier(client: OutpostClient): void {
  useEffect(() => {
    const seen = new Map<string, Seen>();
    // The device's clock at the start, read on the server's clock when a message comes (the
    // client may learn how far off the device is only after the start).
    const startedOnDevice = Date.now();
    let first = true;
    const onList = (list: ConversationListItem[]) => {
      for (const item of list) {
        const before = seen.get(item.id);
        const last = item.lastMessage;
        seen.set(item.id, { messageId: last?.id, mentions: item.mentions });
        if (first || !last || last.id === before?.messageId) continue;
        // New to this run, from someone else, not read on another device, and not old history.
        if (last.author === client.user.id || item.unread === 0 || last.at < startedOnDevice + (now() - Date.now())) continue;
        const preview = plainText(last.preview);
        const incoming: Incoming = {
          conversationId: item.id,
          kind: item.kind,
          title: item.title,
          messageId: last.id,
          author: last.author,
          authorName: nameOf(last.author),
          preview,
          // The mention count goes up only for messages that name this user by id (or, written
          // without ids, by this exact username): never by matching the preview's text.
          mentionsMe: item.mentions > (before?.mentions ?? 0),
        };
        const preferences = client.preferences().get();
        const context = { level: client.notifyLevels().get().get(item.id), dndUntil: preferences.dndUntil, now: now(), appFocused: appFocused() };
        if (!shouldNotify(incoming, context) || !notificationsSupported() || Notification.permission !== 'granted') continue;
        showNotification(incoming, !preferences.sound).catch((error: unknown) => console.warn('outpost: cannot show a notification', error));
        if (preferences.sound) playChime();
      }
      first = false;
    };
    return client.conversations().subscribe(onList);
  }, [client]);
}
