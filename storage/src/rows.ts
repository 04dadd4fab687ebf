// The row shapes both SQL backends return (same column names, same meaning), their
// conversion to the records of Storage.ts and the small result-shaping steps both share, so
// the two implementations cannot drift apart.
import type { AttachmentEntry, ConversationId, ConversationKind, MessageId, Role, TimelineEventKind, UserId } from '@outpost/shared-schema';
import type { ConversationEvent, ConversationRecord, FileRecord, ReportRecord, FormerMemberRecord, MemberRecord, Membership, MessageRecord, NewFile, NumberedMessage, UserRecord } from './Storage.ts';

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  created_at: number;
}

export interface ConversationRow {
  id: string;
  kind: string;
  title: string;
  created_by: string;
  created_at: number;
  head: number;
  last_seq: number;
}

export interface MemberRow {
  user_id: string;
  role: string;
  joined_at: number;
}

export interface NumberedRow {
  id: string;
  seq: number;
  segment: number;
  received_at: number;
}

export interface MessageRow extends NumberedRow {
  conversation_id: string;
  author: string;
  created_at: number;
  body: string;
  edited_body: string | null;
  reply_to: string | null;
  edited_at: number | null;
  deleted_at: number | null;
}

/** Columns of `users`, in UserRow's shape. */
export const userColumns = 'id, username, display_name, password_hash, created_at';
/** Columns of `conversations`, in ConversationRow's shape. */
export const conversationColumns = 'id, kind, title, created_by, created_at, head, last_seq';
/** Columns of `conversations` as `c`, in ConversationRow's shape (for joins). */
export const conversationColumnsOfC = conversationColumns.split(', ').map((column) => `c.${column}`).join(', ');
/**
 * A user's conversations (`members` as `mine`, `conversations` as `c`) with when they joined and a
 * DM's other member: the SELECT list of Conversations.listMemberships on both backends.
 */
export const membershipColumns = `${conversationColumnsOfC}, mine.joined_at,
  CASE WHEN c.kind = 'dm' THEN (SELECT other.user_id FROM members other WHERE other.conversation_id = c.id AND other.user_id <> mine.user_id LIMIT 1) END AS peer`;
/** Columns of `messages`, in NumberedRow's shape. */
export const numberedColumns = 'id, seq, segment, received_at';
/** Columns of `messages`, in MessageRow's shape. */
export const messageColumns =
  'conversation_id, id, seq, segment, author, created_at, received_at, body, edited_body, reply_to, edited_at, deleted_at';

export function toUser(row: UserRow): UserRecord {
  return {
    id: row.id as UserId,
    username: row.username,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
  };
}

export interface MembershipRow extends ConversationRow {
  joined_at: number;
  peer: string | null;
}

export function toMembership(row: MembershipRow): Membership {
  return { conversation: toConversation(row), joinedAt: row.joined_at, peer: (row.peer as UserId | null) ?? null };
}

export function toConversation(row: ConversationRow): ConversationRecord {
  return {
    id: row.id as ConversationId,
    // The CHECK constraints in the migrations keep kind and role to the known values.
    kind: row.kind as ConversationKind,
    title: row.title,
    createdBy: row.created_by as UserId,
    createdAt: row.created_at,
    head: row.head,
    lastSeq: row.last_seq,
  };
}

export function toMember(row: MemberRow): MemberRecord {
  return { userId: row.user_id as UserId, role: row.role as Role, joinedAt: row.joined_at };
}

export function toNumbered(row: NumberedRow): NumberedMessage {
  return { id: row.id as MessageId, seq: row.seq, segment: row.segment, receivedAt: row.received_at };
}

export function toMessage(row: MessageRow): MessageRecord {
  return {
    ...toNumbered(row),
    conversationId: row.conversation_id as ConversationId,
    author: row.author as UserId,
    createdAt: row.created_at,
    body: row.deleted_at !== null ? '' : (row.edited_body ?? row.body),
    replyTo: row.reply_to as MessageId | null,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
  };
}

/** A copy of stored bytes as a plain Uint8Array (drivers hand out Buffers, often pooled). */
export function toBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

/** Drivers bind Buffers; this view of `bytes` copies nothing. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `items` in the order of `ids` (each id once), leaving out ids that matched nothing. */
export function inGivenOrder<T>(ids: readonly string[], items: readonly T[], idOf: (item: T) => string): T[] {
  const byId = new Map(items.map((item) => [idOf(item), item]));
  return [...new Set(ids)].flatMap((id) => {
    const item = byId.get(id);
    return item === undefined ? [] : [item];
  });
}

export interface FormerMemberRow {
  user_id: string;
  left_at: number;
  removed_by: string | null;
}

export function toFormerMember(row: FormerMemberRow): FormerMemberRecord {
  return { userId: row.user_id as UserId, leftAt: row.left_at, removedBy: row.removed_by as UserId | null };
}

export interface EventRow {
  id: number;
  kind: string;
  at: number;
  actor: string;
  subject: string | null;
  title: string | null;
}

export const eventColumns = 'id, kind, at, actor, subject, title';

export function toEvent(row: EventRow): ConversationEvent {
  return {
    id: Number(row.id),
    kind: row.kind as TimelineEventKind,
    at: Number(row.at),
    actor: row.actor as UserId,
    subject: row.subject as UserId | null,
    title: row.title,
  };
}

export interface FileRow {
  id: string;
  conversation_id: string;
  uploader: string;
  name: string;
  type: string;
  size: number;
  width: number | null;
  height: number | null;
  placeholder: string | null;
  original_key: string;
  display_key: string | null;
  thumb_key: string | null;
  created_at: number;
  message_id: string | null;
}

/** Columns of `files`, in FileRow's shape. */
export const fileColumns =
  'id, conversation_id, uploader, name, type, size, width, height, placeholder, original_key, display_key, thumb_key, created_at, message_id';

export function toFile(row: FileRow): FileRecord {
  return {
    entry: toAttachment(row),
    conversationId: row.conversation_id as ConversationId,
    uploader: row.uploader as UserId,
    blobs: { original: row.original_key, display: row.display_key, thumb: row.thumb_key },
    createdAt: row.created_at,
    messageId: row.message_id as MessageId | null,
  };
}

/** What a message names of a file, as its row records it (absent fields stay absent). */
export function toAttachment(row: Pick<FileRow, 'id' | 'name' | 'type' | 'size' | 'width' | 'height' | 'placeholder'>): AttachmentEntry {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    size: row.size,
    ...(row.width !== null ? { width: row.width } : {}),
    ...(row.height !== null ? { height: row.height } : {}),
    ...(row.placeholder !== null ? { placeholder: row.placeholder } : {}),
  };
}

/** A file's row values, in `fileColumns` order. */
export function fileValues(file: NewFile): (string | number | null)[] {
  const { entry } = file;
  return [
    entry.id, file.conversationId, file.uploader, entry.name, entry.type, entry.size, entry.width ?? null, entry.height ?? null,
    entry.placeholder ?? null, file.blobs.original, file.blobs.display, file.blobs.thumb, file.createdAt, null,
  ];
}

export interface ReportRow {
  id: string;
  conversation_id: string;
  message_id: string;
  reporter: string;
  reason: string;
  created_at: number;
  resolved_by: string | null;
  resolved_at: number | null;
}

export const reportColumns = 'id, conversation_id, message_id, reporter, reason, created_at, resolved_by, resolved_at';

export function toReport(row: ReportRow): ReportRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id as ConversationId,
    messageId: row.message_id as MessageId,
    reporter: row.reporter as UserId,
    reason: row.reason,
    createdAt: row.created_at,
    resolvedBy: row.resolved_by as UserId | null,
    resolvedAt: row.resolved_at,
  };
}
