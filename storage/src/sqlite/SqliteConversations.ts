// Conversations and membership on SQLite.
import { OutpostError, type ConversationId, type Role, type UserId } from '@outpost/shared-schema';
import type { ConversationEvent, ConversationRecord, Conversations, FormerMemberRecord, MemberRecord, Membership, NewConversation } from '../Conversations.ts';
import { directKey } from '../directKey.ts';
import {
  conversationColumns,
  membershipColumns,
  type MembershipRow,
  eventColumns,
  toConversation,
  toEvent,
  toFormerMember,
  toMember,
  toMembership,
  type ConversationRow,
  type EventRow,
  type FormerMemberRow,
  type MemberRow,
} from '../rows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

export class SqliteConversations implements Conversations {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async createConversation(conversation: NewConversation): Promise<{ conversation: ConversationRecord; created: boolean }> {
    return this.#sql.immediate(() => {
      const dmKey = directKey(conversation);
      if (dmKey !== null) {
        const existing = this.#sql.get<ConversationRow>(`SELECT ${conversationColumns} FROM conversations WHERE dm_key = ?`, dmKey);
        if (existing) return { conversation: toConversation(existing), created: false };
      }
      this.#sql.run(
        `INSERT INTO conversations (id, kind, title, created_by, created_at, dm_key) VALUES (?, ?, ?, ?, ?, ?)`,
        conversation.id, conversation.kind, conversation.title, conversation.createdBy, conversation.createdAt, dmKey,
      );
      for (const member of conversation.members) {
        this.#sql.run(
          `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conversation_id, user_id) DO NOTHING`,
          conversation.id, member.userId, member.role, conversation.createdAt,
        );
      }
      if (conversation.kind === 'group') this.#event(conversation.id, conversation.createdAt, 'created', conversation.createdBy, null, conversation.title);
      const created = this.#sql.get<ConversationRow>(`SELECT ${conversationColumns} FROM conversations WHERE id = ?`, conversation.id);
      if (!created) throw new Error(`conversation ${conversation.id} vanished inside its own transaction`);
      return { conversation: toConversation(created), created: true };
    });
  }

  async getConversation(id: ConversationId): Promise<ConversationRecord | null> {
    const row = this.#sql.get<ConversationRow>(`SELECT ${conversationColumns} FROM conversations WHERE id = ?`, id);
    return row ? toConversation(row) : null;
  }

  async listConversations(userId: UserId): Promise<ConversationRecord[]> {
    const rows = this.#sql.all<ConversationRow>(
      `SELECT ${conversationColumns} FROM conversations
       WHERE id IN (SELECT conversation_id FROM members WHERE user_id = ?)
       ORDER BY created_at, id`,
      userId,
    );
    return rows.map(toConversation);
  }

  async listMemberships(userId: UserId): Promise<Membership[]> {
    const rows = this.#sql.all<MembershipRow>(
      `SELECT ${membershipColumns} FROM members mine JOIN conversations c ON c.id = mine.conversation_id
       WHERE mine.user_id = ? ORDER BY c.created_at, c.id`,
      userId,
    );
    return rows.map(toMembership);
  }

  async getMembers(id: ConversationId): Promise<MemberRecord[]> {
    const rows = this.#sql.all<MemberRow>('SELECT user_id, role, joined_at FROM members WHERE conversation_id = ? ORDER BY joined_at, user_id', id);
    return rows.map(toMember);
  }

  async listContacts(userId: UserId): Promise<{ userId: UserId; conversationId: ConversationId }[]> {
    const rows = this.#sql.all<{ user_id: string; conversation_id: string }>(
      `SELECT other.user_id, other.conversation_id FROM members mine
       JOIN members other ON other.conversation_id = mine.conversation_id AND other.user_id <> mine.user_id
       WHERE mine.user_id = ?`,
      userId,
    );
    return rows.map((row) => ({ userId: row.user_id as UserId, conversationId: row.conversation_id as ConversationId }));
  }

  async getMemberRole(id: ConversationId, userId: UserId): Promise<Role | null> {
    const row = this.#sql.get<MemberRow>('SELECT user_id, role, joined_at FROM members WHERE conversation_id = ? AND user_id = ?', id, userId);
    return row ? toMember(row).role : null;
  }

  async getMemberRoles(pairs: readonly { conversationId: ConversationId; userId: UserId }[]): Promise<{ conversationId: ConversationId; userId: UserId; role: Role }[]> {
    if (pairs.length === 0) return [];
    const rows = this.#sql.all<{ conversation_id: string; user_id: string; role: string }>(
      `SELECT m.conversation_id, m.user_id, m.role FROM json_each(?) AS p
       JOIN members m ON m.conversation_id = json_extract(p.value, '$[0]') AND m.user_id = json_extract(p.value, '$[1]')`,
      JSON.stringify(pairs.map((pair) => [pair.conversationId, pair.userId])),
    );
    return rows.map((row) => ({ conversationId: row.conversation_id as ConversationId, userId: row.user_id as UserId, role: row.role as Role }));
  }

  async addMembers(id: ConversationId, userIds: readonly UserId[], role: Role, now: number, by: UserId): Promise<UserId[]> {
    return this.#sql.immediate(() => {
      if (!this.#sql.get('SELECT 1 FROM conversations WHERE id = ?', id)) throw new OutpostError('notFound', 'no such conversation');
      const added: UserId[] = [];
      for (const userId of new Set(userIds)) {
        const result = this.#sql.run(
          `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conversation_id, user_id) DO NOTHING`,
          id, userId, role, now,
        );
        if (result.changes === 0) continue;
        added.push(userId);
        this.#sql.run('DELETE FROM former_members WHERE conversation_id = ? AND user_id = ?', id, userId);
        this.#event(id, now, 'added', by, userId, null);
      }
      return added;
    });
  }

  async removeMember(id: ConversationId, userId: UserId, removedBy: UserId | null, now: number): Promise<boolean> {
    return this.#sql.immediate(() => {
      if (this.#sql.run('DELETE FROM members WHERE conversation_id = ? AND user_id = ?', id, userId).changes === 0) return false;
      this.#sql.run(
        `INSERT INTO former_members (conversation_id, user_id, left_at, removed_by) VALUES (?, ?, ?, ?)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET left_at = excluded.left_at, removed_by = excluded.removed_by`,
        id, userId, now, removedBy,
      );
      if (removedBy === null) this.#event(id, now, 'left', userId, null, null);
      else this.#event(id, now, 'removed', removedBy, userId, null);
      return true;
    });
  }

  async getFormerMembers(id: ConversationId): Promise<FormerMemberRecord[]> {
    const rows = this.#sql.all<FormerMemberRow>('SELECT user_id, left_at, removed_by FROM former_members WHERE conversation_id = ? ORDER BY left_at, user_id', id);
    return rows.map(toFormerMember);
  }

  async listRemovals(userId: UserId, limit: number): Promise<(FormerMemberRecord & { conversation: ConversationRecord })[]> {
    const rows = this.#sql.all<FormerMemberRow & ConversationRow>(
      `SELECT f.user_id, f.left_at, f.removed_by, ${conversationColumns.split(', ').map((c) => `c.${c}`).join(', ')}
       FROM former_members f JOIN conversations c ON c.id = f.conversation_id
       WHERE f.user_id = ? ORDER BY f.left_at DESC LIMIT ?`,
      userId, limit,
    );
    return rows.map((row) => ({ ...toFormerMember(row), conversation: toConversation(row) }));
  }

  async setTitle(id: ConversationId, title: string, by: UserId, now: number): Promise<boolean> {
    return this.#sql.immediate(() => {
      if (this.#sql.run('UPDATE conversations SET title = ? WHERE id = ?', title, id).changes === 0) return false;
      this.#event(id, now, 'renamed', by, null, title);
      return true;
    });
  }

  async listEvents(id: ConversationId, limit: number): Promise<ConversationEvent[]> {
    const rows = this.#sql.all<EventRow>(`SELECT ${eventColumns} FROM conversation_events WHERE conversation_id = ? ORDER BY id DESC LIMIT ?`, id, limit);
    return rows.reverse().map(toEvent);
  }

  async setMemberRole(id: ConversationId, userId: UserId, role: Role): Promise<boolean> {
    return this.#sql.run('UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?', role, id, userId).changes > 0;
  }

  /** Records an event; called inside the transaction of the change it tells of. */
  #event(id: ConversationId, at: number, kind: ConversationEvent['kind'], actor: UserId, subject: UserId | null, title: string | null): void {
    this.#sql.run('INSERT INTO conversation_events (conversation_id, at, kind, actor, subject, title) VALUES (?, ?, ?, ?, ?, ?)', id, at, kind, actor, subject, title);
  }
}
