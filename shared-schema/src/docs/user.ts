// `user:<id>`, written by that user's devices: read positions per device (a user's position
// is the max over devices, so it never goes back), drafts and preferences.
import * as Y from 'yjs';
import { z } from 'zod';
import { isUuid, type ConversationId, type DeviceId } from '../names.ts';

export const UserRoots = { reads: 'reads', drafts: 'drafts' } as const;

export const ReadEntry = z.number().int().nonnegative();
export const DraftEntry = z.string().max(100_000);

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
  };
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
