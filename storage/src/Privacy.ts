// What a person may ask of the server about themselves: everything it holds of them (export),
// and to be forgotten (erase). The documents' side of an erase (their messages' text) is the
// sync server's work; this is the tables' side.
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import type { FileRecord } from './Files.ts';
import type { MessageRecord } from './Projection.ts';

/** A signed-in device (a refresh-token family), as its owner may see it. */
export interface SessionRecord {
  id: string;
  createdAt: number;
  /** When a token of it was last exchanged (its creation if never). */
  lastUsedAt: number;
  expiresAt: number;
  /** Neither revoked nor expired. */
  active: boolean;
}

/** The tables' part of a person's data export. */
export interface AccountFacts {
  user: { id: UserId; username: string; displayName: string; createdAt: number; erasedAt: number | null };
  sessions: SessionRecord[];
  /** Messages they wrote, per conversation by seq (deleted ones with no text); `sentBody` is the text as first sent. */
  messages: (MessageRecord & { sentBody: string })[];
  /** Files they uploaded (with the message carrying each, if any). */
  files: FileRecord[];
}

export interface Privacy {
  /** Everything the tables hold of `userId`, or null when there is no such user. */
  accountFacts(userId: UserId, now: number): Promise<AccountFacts | null>;
  /**
   * Erases an account's personal data in one transaction: the profile becomes "Deleted user"
   * (a username nobody can sign in with, no password), every session is revoked, and the files
   * they uploaded are forgotten (their bytes go at the next collection). Returns the sessions
   * that were still active (to cut off at once), or null when there is no such user. Erasing
   * again changes nothing.
   */
  eraseAccount(userId: UserId, now: number): Promise<{ sessions: string[] } | null>;
  /** When the account was erased, or null (also for an unknown user). */
  erasedAt(userId: UserId): Promise<number | null>;
  /** Messages `userId` wrote that still have text, with their segment: what an erase deletes. */
  messagesWithText(userId: UserId): Promise<{ conversationId: ConversationId; id: MessageId; segment: number }[]>;
}

/** The display name an erased account shows everywhere. */
export const ERASED_DISPLAY_NAME = 'Deleted user';

/** The username an erased account gets: unique, and one nobody can sign up with (':' is never allowed). */
export function erasedUsername(userId: UserId): string {
  return `deleted:${userId.replace(/-/g, '').slice(0, 22)}`;
}

/** A password hash no password matches (not in the scrypt format). */
export const ERASED_PASSWORD_HASH = '!erased';
