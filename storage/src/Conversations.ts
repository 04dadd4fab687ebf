// Conversations, their members and the people who left them. Where a conversation's messages
// go (`head`) and how far it is numbered (`lastSeq`) move only inside an UpdateLog commit.
import type { ConversationId, ConversationKind, ConversationMeta, Role, TimelineEventKind, UserId } from '@outpost/shared-schema';

/** A conversation as stored: the server document's meta (less the node's segment size) and its id. */
export interface ConversationRecord extends Omit<ConversationMeta, 'segmentSize'> {
  id: ConversationId;
}

export interface MemberRecord {
  userId: UserId;
  role: Role;
  joinedAt: number;
}

/** Someone who is no longer a member, and who removed them (null: they left). */
export interface FormerMemberRecord {
  userId: UserId;
  leftAt: number;
  removedBy: UserId | null;
}

/** Something that happened to a group, recorded in the same transaction as the change itself. */
export interface ConversationEvent {
  /** Grows with every event of the server (so within a conversation too). */
  id: number;
  kind: TimelineEventKind;
  at: number;
  /** Who did it (who left, for `left`). */
  actor: UserId;
  /** Who was added or removed. */
  subject: UserId | null;
  /** The title after `created` or `renamed`. */
  title: string | null;
}

export interface NewConversation {
  id: ConversationId;
  kind: ConversationKind;
  title: string;
  createdBy: UserId;
  createdAt: number;
  members: { userId: UserId; role: Role }[];
}

/** A conversation from one member's side (see Conversations.listMemberships). */
export interface Membership {
  conversation: ConversationRecord;
  joinedAt: number;
  peer: UserId | null;
}

export interface Conversations {
  /**
   * Creates a conversation. For a DM, asking twice for the same pair returns the first one:
   * `created` tells which happened. A group's creation is its first event.
   */
  createConversation(conversation: NewConversation): Promise<{ conversation: ConversationRecord; created: boolean }>;
  getConversation(id: ConversationId): Promise<ConversationRecord | null>;
  listConversations(userId: UserId): Promise<ConversationRecord[]>;
  /**
   * The user's conversations as listConversations orders them, each with when they joined and,
   * for a DM, the other member (null for a group, or a DM whose other member is gone), in one query.
   */
  listMemberships(userId: UserId): Promise<Membership[]>;
  getMembers(id: ConversationId): Promise<MemberRecord[]>;
  /**
   * Everyone who shares a conversation with the user (the user left out), once per conversation
   * they share, in one query: who is shown the user's presence, and in which conversations.
   */
  listContacts(userId: UserId): Promise<{ userId: UserId; conversationId: ConversationId }[]>;
  getMemberRole(id: ConversationId, userId: UserId): Promise<Role | null>;
  /** The roles of many (conversation, user) pairs in one query; pairs that are not members are left out. */
  getMemberRoles(pairs: readonly { conversationId: ConversationId; userId: UserId }[]): Promise<{ conversationId: ConversationId; userId: UserId; role: Role }[]>;
  /**
   * Adds members (existing ones keep their role); returns the ones actually added, each with an
   * `added` event by `by`. A former member who is added again is no longer listed as former.
   * Throws OutpostError('notFound') when the conversation does not exist.
   */
  addMembers(id: ConversationId, userIds: readonly UserId[], role: Role, now: number, by: UserId): Promise<UserId[]>;
  /**
   * Removes a member and remembers them as former, with a `removed` event (or `left` when
   * `removedBy` is null); returns false when the user was not a member.
   */
  removeMember(id: ConversationId, userId: UserId, removedBy: UserId | null, now: number): Promise<boolean>;
  /** People who were members and are not any more. */
  getFormerMembers(id: ConversationId): Promise<FormerMemberRecord[]>;
  /** Conversations the user was removed from (or left), newest first, at most `limit`. */
  listRemovals(userId: UserId, limit: number): Promise<(FormerMemberRecord & { conversation: ConversationRecord })[]>;
  /** Renames a conversation, with a `renamed` event by `by`; returns false when there is no such conversation. */
  setTitle(id: ConversationId, title: string, by: UserId, now: number): Promise<boolean>;
  /** The latest `limit` events of a conversation, oldest first. */
  listEvents(id: ConversationId, limit: number): Promise<ConversationEvent[]>;
  /** Sets a member's role; returns false when the user is not a member. */
  setMemberRole(id: ConversationId, userId: UserId, role: Role): Promise<boolean>;
}
