// `inbox:<id>`, written only by the server: the user's conversations and why one went away.
// It changes with membership, never per message: previews, unread and mention counts are
// derived on the client from each conversation's head segment and the user's read positions.
import * as Y from 'yjs';
import type { ConversationKind } from './server.ts';
import type { ConversationId, UserId } from '../names.ts';

export interface InboxEntry {
  kind: ConversationKind;
  /** The group's title; for a DM, the other person's display name. */
  title: string;
  /** When the user joined (ms). */
  joinedAt: number;
}

/** A conversation the user was removed from (or left), so the app can say so. */
export interface RemovalEntry {
  kind: ConversationKind;
  title: string;
  /** Who removed them (null when they left themselves). */
  by: UserId | null;
  byName: string;
  at: number;
}

export const InboxRoots = { conversations: 'conversations', removals: 'removals' } as const;

export function inboxMap(doc: Y.Doc): Y.Map<InboxEntry> {
  return doc.getMap<InboxEntry>(InboxRoots.conversations);
}

export function removalsMap(doc: Y.Doc): Y.Map<RemovalEntry> {
  return doc.getMap<RemovalEntry>(InboxRoots.removals);
}

export function readInbox(doc: Y.Doc): Map<ConversationId, InboxEntry> {
  return new Map(inboxMap(doc).entries() as Iterable<[ConversationId, InboxEntry]>);
}

export function readRemovals(doc: Y.Doc): Map<ConversationId, RemovalEntry> {
  return new Map(removalsMap(doc).entries() as Iterable<[ConversationId, RemovalEntry]>);
}
