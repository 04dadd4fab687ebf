// The one persistence contract of the sync server. SQLite (embedded default) and Postgres
// implement it; `testing/storageContract.ts` holds both to the same behaviour.
import type { ConversationId, ConversationKind, ConversationMeta, MessageId, Role, UserId } from '@outpost/shared-schema';

export interface UserRecord {
  id: UserId;
  username: string;
  displayName: string;
  passwordHash: string;
  createdAt: number;
}

export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  userId: UserId;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  tokenHash: string;
  expiresAt: number;
  createdAt: number;
}

export type RotateResult =
  | { outcome: 'rotated'; userId: UserId; familyId: string }
  /** The presented token was already used or revoked: its whole family is now revoked. */
  | { outcome: 'reused'; userId: UserId; familyId: string }
  | { outcome: 'expired' }
  | { outcome: 'unknown' };

export interface MemberRecord {
  userId: UserId;
  role: Role;
  joinedAt: number;
}

/** A conversation as stored: the server document's meta (less the node's segment size) and its id. */
export interface ConversationRecord extends Omit<ConversationMeta, 'segmentSize'> {
  id: ConversationId;
}

export interface NewConversation {
  id: ConversationId;
  kind: ConversationKind;
  title: string;
  createdBy: UserId;
  createdAt: number;
  members: { userId: UserId; role: Role }[];
}

/** A message as the server first saw it in a segment, to be numbered and projected. */
export interface NewMessage {
  id: MessageId;
  segment: number;
  author: UserId;
  createdAt: number;
  body: string;
  replyTo?: MessageId;
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
  body: string;
  replyTo: MessageId | null;
  editedAt: number | null;
  deletedAt: number | null;
}

/** A stored document: the compacted snapshot (if any) and the log entries after it, in order. */
export interface StoredDocument {
  snapshot: Uint8Array | null;
  updates: Uint8Array[];
  /** Position of the last log entry included (0 when the log is empty). */
  position: number;
}

export interface Storage {
  /** Applies pending migrations. Idempotent; safe to call from several nodes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // ── users ──
  /** Throws OutpostError('conflict') when the username is taken. */
  createUser(user: UserRecord): Promise<void>;
  getUserById(id: UserId): Promise<UserRecord | null>;
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** In the order of `ids`; unknown ids are left out. */
  getUsersByIds(ids: readonly UserId[]): Promise<UserRecord[]>;
  /** Users whose username or display name starts with / contains `query`, case-insensitive. */
  searchUsers(query: string, limit: number): Promise<UserRecord[]>;

  // ── refresh tokens (rotating, hashed, reuse revokes the family) ──
  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  /**
   * Atomically consumes the token with `tokenHash` and stores `next` in the same family.
   * A token presented twice revokes its whole family.
   */
  rotateRefreshToken(tokenHash: string, next: Omit<RefreshTokenRecord, 'familyId' | 'userId'>, now: number): Promise<RotateResult>;
  /** Revokes the family of the token with `tokenHash`; returns the family id, or null if there is none. */
  revokeRefreshToken(tokenHash: string): Promise<string | null>;
  /** True while the family (a signed-in device) has a token that is neither used, revoked nor expired. */
  isSessionActive(familyId: string, now: number): Promise<boolean>;

  // ── conversations and members ──
  /**
   * Creates a conversation. For a DM, asking twice for the same pair returns the first one:
   * `created` tells which happened.
   */
  createConversation(conversation: NewConversation): Promise<{ conversation: ConversationRecord; created: boolean }>;
  getConversation(id: ConversationId): Promise<ConversationRecord | null>;
  listConversations(userId: UserId): Promise<ConversationRecord[]>;
  getMembers(id: ConversationId): Promise<MemberRecord[]>;
  getMemberRole(id: ConversationId, userId: UserId): Promise<Role | null>;
  /**
   * Adds members (existing ones keep their role); returns the ones actually added.
   * Throws OutpostError('notFound') when the conversation does not exist.
   */
  addMembers(id: ConversationId, userIds: readonly UserId[], role: Role, now: number): Promise<UserId[]>;
  /** Returns false when the user was not a member. */
  removeMember(id: ConversationId, userId: UserId): Promise<boolean>;
  /** Renames a conversation; returns false when there is no such conversation. */
  setTitle(id: ConversationId, title: string): Promise<boolean>;
  /** Sets a member's role; returns false when the user is not a member. */
  setMemberRole(id: ConversationId, userId: UserId, role: Role): Promise<boolean>;
  /** Moves `head` from `from` to `from + 1`, only if it is still `from`. */
  advanceHead(id: ConversationId, from: number): Promise<number>;

  // ── sequencing and the message projection ──
  /**
   * Gives each message its canonical number, in one transaction per conversation: a message
   * already numbered keeps its number (and segment); new ones get lastSeq+1, +2, … in the
   * given order. Numbers are 1..N per conversation, no gap, no duplicate, across nodes.
   * Returns one entry per given message, in the given order. Throws OutpostError('notFound')
   * when the conversation does not exist.
   */
  numberMessages(id: ConversationId, messages: readonly NewMessage[], receivedAt: number): Promise<NumberedMessage[]>;
  /** The numbered messages of one segment, by seq. */
  listSegmentNumbers(id: ConversationId, segment: number): Promise<NumberedMessage[]>;
  countSegmentMessages(id: ConversationId, segment: number): Promise<number>;
  /** Ignored when an edit with a later `editedAt` is already recorded (a late replay). */
  recordEdit(id: ConversationId, messageId: MessageId, body: string, editedAt: number): Promise<void>;
  /** Keeps the first deletion time when a message is deleted again. */
  recordDeletion(id: ConversationId, messageId: MessageId, deletedAt: number): Promise<void>;
  getMessage(id: ConversationId, messageId: MessageId): Promise<MessageRecord | null>;
  /** The newest message that is not deleted. */
  lastMessage(id: ConversationId): Promise<MessageRecord | null>;
  /** Of those unread messages, the ones whose text mentions `@handle` (case-insensitive). */
  countMentions(id: ConversationId, userId: UserId, afterSeq: number, handle: string): Promise<number>;
  /** Messages after `afterSeq` written by someone other than `userId`, not deleted. */
  countUnread(id: ConversationId, userId: UserId, afterSeq: number): Promise<number>;

  // ── read positions (max over devices) ──
  /** Raises the user's read position to `seq` if higher; returns the position now stored. */
  recordRead(id: ConversationId, userId: UserId, seq: number): Promise<number>;
  getReadPositions(id: ConversationId): Promise<Map<UserId, number>>;

  // ── Yjs client ids: each belongs to the first user who writes with it in a document ──
  /**
   * Claims `clientIds` in `docName` for `userId` where unclaimed, atomically. Returns the ids
   * among them that belong to someone else (so the update must be refused).
   */
  claimClients(docName: string, userId: UserId, clientIds: readonly number[]): Promise<number[]>;

  // ── the update log and snapshots ──
  /** Durably appends one Yjs update to the document's log; returns its position. */
  appendUpdate(docName: string, update: Uint8Array): Promise<number>;
  loadDocument(docName: string): Promise<StoredDocument>;
  /** Number of log entries after the snapshot. */
  countUpdates(docName: string): Promise<number>;
  /**
   * Merges snapshot + log entries up to the current position into a new snapshot and trims
   * them, under a lock so concurrent appends and compactions from other nodes are safe.
   * Entries appended during compaction survive.
   */
  compact(docName: string, merge: (parts: Uint8Array[]) => Uint8Array): Promise<void>;
}
