// `inbox:<id>`, written only by the server: one entry per conversation of the user, enough to
// draw the conversation list without opening any conversation.
import * as Y from 'yjs';
import type { ConversationKind } from './server.ts';
import type { ConversationId, MessageId, UserId } from '../names.ts';

export interface InboxEntry {
  kind: ConversationKind;
  title: string;
  lastSeq: number;
  lastMessage: { id: MessageId; author: UserId; preview: string; at: number } | null;
  /** Messages from others after the user's read position. */
  unread: number;
  mentions: number;
  /** Last activity (ms): sorts the list. */
  updatedAt: number;
}

export const InboxRoots = { conversations: 'conversations' } as const;

export function inboxMap(doc: Y.Doc): Y.Map<InboxEntry> {
  return doc.getMap<InboxEntry>(InboxRoots.conversations);
}

export function readInbox(doc: Y.Doc): Map<ConversationId, InboxEntry> {
  return new Map(inboxMap(doc).entries() as Iterable<[ConversationId, InboxEntry]>);
}

/** Writes the entry only when something changed, so reconciling is free when up to date. */
export function writeInboxEntry(doc: Y.Doc, id: ConversationId, entry: InboxEntry): boolean {
  const map = inboxMap(doc);
  const current = map.get(id);
  if (current && JSON.stringify(current) === JSON.stringify(entry)) return false;
  map.set(id, entry);
  return true;
}
