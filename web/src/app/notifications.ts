// When and how the app notifies. Direct messages and mentions of you notify by default, a
// conversation set to "all" notifies for every message and one set to "none" (muted) never; do
// not disturb silences everything until its time; and nothing notifies while you are looking at
// the app. Notifications are shown by the service worker, so they appear with the tab in the
// background and a click opens the message (see serviceWorkerPlugin.ts).
import { defaultNotifyLevel, type NotifyLevel } from '@outpost/shared-schema';

export interface Incoming {
  conversationId: string;
  kind: 'dm' | 'group';
  /** The conversation's title (a DM's is the other person's name). */
  title: string;
  messageId: string;
  author: string;
  authorName: string;
  preview: string;
  /** The message mentions you: the inbox counted a new mention (by user id). */
  mentionsMe: boolean;
}

export interface NotifyContext {
  /** The level chosen for the conversation, if any (else its kind's default). */
  level: NotifyLevel | undefined;
  dndUntil: number;
  now: number;
  /** The app is on screen and focused: what arrives is seen, not notified. */
  appFocused: boolean;
}

export function shouldNotify(incoming: Incoming, context: NotifyContext): boolean {
  if (context.appFocused || context.dndUntil > context.now) return false;
  switch (context.level ?? defaultNotifyLevel(incoming.kind)) {
    case 'all':
      return true;
    case 'mentions':
      return incoming.mentionsMe;
    case 'none':
      return false;
  }
}

/** The notification's title and body. */
export function describe(incoming: Incoming): { title: string; body: string } {
  return {
    title: incoming.kind === 'dm' ? incoming.authorName : `${incoming.authorName} in ${incoming.title}`,
    body: incoming.preview,
  };
}

/** The app is visible and has the focus. */
export function appFocused(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined' && 'serviceWorker' in navigator;
}

/** Shows the notification through the service worker (the page's own as a fallback in development). */
export async function showNotification(incoming: Incoming, silent: boolean): Promise<void> {
  const { title, body } = describe(incoming);
  const options: NotificationOptions = {
    body,
    // One per message: tabs of the same user notifying the same message replace, not repeat, it.
    tag: `outpost-message-${incoming.messageId}`,
    icon: '/icon-192.png',
    badge: '/icon-192.png',
    silent,
    data: { url: `/c/${incoming.conversationId}/m/${incoming.messageId}` },
  };
  const registration = await navigator.serviceWorker.getRegistration();
  if (registration) await registration.showNotification(title, options);
  else new Notification(title, options);
}

/** Where the answer to the sidebar's offer of notifications is kept: 'sent' (offer it) or 'dismissed'. */
export const promptKey = (userId: string) => `outpost.notifyPrompt.${userId}`;

/** Forgets the user's answer (on logout). */
export function forgetNotificationPrompt(userId: string): void {
  localStorage.removeItem(promptKey(userId));
}
