// `user:<id>`, written by that user's devices: read positions per device (a user's position
// is the max over devices, so it never goes back), drafts, and the notification settings every
// device of the user must agree on (per-conversation level, do-not-disturb, sound).
import * as Y from 'yjs';
import { z } from 'zod';
import { isUuid, type ConversationId, type DeviceId } from '../names.ts';

export const UserRoots = { reads: 'reads', drafts: 'drafts', notify: 'notify', preferences: 'preferences' } as const;

export const ReadEntry = z.number().int().nonnegative();
export const DraftEntry = z.string().max(100_000);

/**
 * When a conversation notifies: every message, only messages that mention you, or never (muted).
 * `notify` holds conversationId → level; no entry means the default (see `defaultNotifyLevel`).
 */
export const NotifyLevels = ['all', 'mentions', 'none'] as const;
export const NotifyEntry = z.enum(NotifyLevels);
export type NotifyLevel = z.infer<typeof NotifyEntry>;

/** Direct messages notify for every message; groups for mentions of you. */
export function defaultNotifyLevel(kind: 'dm' | 'group'): NotifyLevel {
  return kind === 'dm' ? 'all' : 'mentions';
}

/**
 * `preferences` holds one entry per known key; any other key is refused.
 * `dndUntil`: no notifications before this time (ms since the epoch; 0 or past: off).
 * `sound`: notifications play a sound.
 */
export const PreferenceEntries = {
  dndUntil: z.number().int().nonnegative(),
  sound: z.boolean(),
} as const;
export type Preferences = { [K in keyof typeof PreferenceEntries]: z.infer<(typeof PreferenceEntries)[K]> };
export const defaultPreferences: Preferences = { dndUntil: 0, sound: false };

/** The schema of preference `key`, or undefined for a key that is not a preference. */
export function preferenceEntry(key: string): z.ZodType | undefined {
  return Object.hasOwn(PreferenceEntries, key) ? PreferenceEntries[key as keyof Preferences] : undefined;
}

export function readKey(conversationId: ConversationId, deviceId: DeviceId): string {
  return `${conversationId}/${deviceId}`;
}

export function parseReadKey(key: string): { conversationId: ConversationId; deviceId: DeviceId } | null {
  const [conversationId, deviceId, extra] = key.split('/');
  if (extra !== undefined || !isUuid(conversationId) || !isUuid(deviceId)) return null;
  return { conversationId: conversationId as ConversationId, deviceId: deviceId as DeviceId };
}

export function userMaps(doc: Y.Doc) {
  return {
    reads: doc.getMap<number>(UserRoots.reads),
    drafts: doc.getMap<string>(UserRoots.drafts),
    notify: doc.getMap<NotifyLevel>(UserRoots.notify),
    preferences: doc.getMap<unknown>(UserRoots.preferences),
  };
}

/** The level set for a conversation on any device, or undefined for the default. */
export function readNotifyLevel(doc: Y.Doc, conversationId: ConversationId): NotifyLevel | undefined {
  const parsed = NotifyEntry.safeParse(userMaps(doc).notify.get(conversationId));
  return parsed.success ? parsed.data : undefined;
}

/** Sets a conversation's level; undefined goes back to the default. Returns whether it changed. */
export function writeNotifyLevel(doc: Y.Doc, conversationId: ConversationId, level: NotifyLevel | undefined): boolean {
  const notify = userMaps(doc).notify;
  if (notify.get(conversationId) === level) return false;
  if (level === undefined) notify.delete(conversationId);
  else notify.set(conversationId, level);
  return true;
}

/** Every preference, with the default where none (or a malformed one) is stored. */
export function readPreferences(doc: Y.Doc): Preferences {
  const stored = userMaps(doc).preferences;
  const dndUntil = PreferenceEntries.dndUntil.safeParse(stored.get('dndUntil'));
  const sound = PreferenceEntries.sound.safeParse(stored.get('sound'));
  return { dndUntil: dndUntil.success ? dndUntil.data : defaultPreferences.dndUntil, sound: sound.success ? sound.data : defaultPreferences.sound };
}

/** Sets one preference. Returns whether it changed. */
export function writePreference<K extends keyof Preferences>(doc: Y.Doc, key: K, value: Preferences[K]): boolean {
  const preferences = userMaps(doc).preferences;
  if (preferences.get(key) === value) return false;
  preferences.set(key, PreferenceEntries[key].parse(value));
  return true;
}

/** The user's read position in a conversation: the maximum over all their devices. */
export function readPosition(doc: Y.Doc, conversationId: ConversationId): number {
  let max = 0;
  for (const [key, seq] of userMaps(doc).reads.entries()) {
    if (key.startsWith(`${conversationId}/`) && seq > max) max = seq;
  }
  return max;
}

/** Moves this device's position forward; never back (an older mark is a no-op). */
export function markRead(doc: Y.Doc, conversationId: ConversationId, deviceId: DeviceId, seq: number): boolean {
  const reads = userMaps(doc).reads;
  const key = readKey(conversationId, deviceId);
  if ((reads.get(key) ?? 0) >= seq) return false;
  reads.set(key, seq);
  return true;
}
