// The relational read model of messages (for history, search, export and moderation) and the
// read positions of members. Messages enter it when an UpdateLog commit numbers them; edits
// and deletions follow the value the document converged to, written after it is applied.
import type { AttachmentEntry, ConversationId, MessageId, UserId } from '@outpost/shared-schema';

/** A message as the server first saw it in a segment, to be numbered and projected. */
export interface NewMessage {
  id: MessageId;
  segment: number;
  author: UserId;
  createdAt: number;
  body: string;
  replyTo?: MessageId;
  /**
   * Files the message carries. The commit numbers it only if each is a file its author uploaded
   * to this conversation, not carried by another message, recorded exactly as named here.
   */
  attachments?: readonly AttachmentEntry[];
}

export interface NumberedMessage {
  id: MessageId;
  seq: number;
  /** The segment where the message was first numbered; it never moves. */
  segment: number;
  /** Server receive time, ms. */
  receivedAt: number;
}

export interface MessageRecord extends NumberedMessage {
  conversationId: ConversationId;
  author: UserId;
  createdAt: number;
  /** What members see: the edited text if edited, empty once deleted. */
  body: string;
  replyTo: MessageId | null;
  editedAt: number | null;
  deletedAt: number | null;
}

/** A message's state as its segment document converged to it. */
export interface MessageState {
  conversationId: ConversationId;
  id: MessageId;
  /** The winning edit, or null when there is none. */
  edit: { body: string; editedAt: number } | null;
  /** When it was deleted, or null. A deleted message keeps no text. */
  deletedAt: number | null;
}

export interface Projection {
  getMessage(conversationId: ConversationId, messageId: MessageId): Promise<MessageRecord | null>;
  /** The numbered messages of one segment, by seq. */
  listSegmentNumbers(conversationId: ConversationId, segment: number): Promise<NumberedMessage[]>;
  /** Messages by seq, from `afterSeq` (exclusive), at most `limit`. */
  listMessages(conversationId: ConversationId, afterSeq: number, limit: number): Promise<MessageRecord[]>;
  /**
   * Brings messages in line with their documents (edit winner, deletion), in one transaction. A
   * deleted message's files are forgotten with it (their blobs go at the next collection).
   */
  applyMessageStates(states: readonly MessageState[]): Promise<void>;
  /** Each user's read position (max over their devices). */
  getReadPositions(conversationId: ConversationId): Promise<Map<UserId, number>>;
}
