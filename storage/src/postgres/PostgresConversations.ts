// Conversations and membership on Postgres.
import type pg from 'pg';
import { OutpostError, type ConversationId, type Role, type UserId } from '@outpost/shared-schema';
import type { ConversationEvent, ConversationRecord, Conversations, FormerMemberRecord, MemberRecord, Membership, NewConversation } from '../Conversations.ts';
import { directKey } from '../directKey.ts';
import {
  conversationColumns,
  membershipColumns,
  type MembershipRow,
  eventColumns,
  inGivenOrder,
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
import { all, one } from './query.ts';
import { inTransaction } from './transaction.ts';

export class PostgresConversations implements Conversations {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async createConversation(conversation: NewConversation): Promise<{ conversation: ConversationRecord; created: boolean }> {
    return inTransaction(this.#pool, async (client) => {
      const dmKey = directKey(conversation);
      // A racing request for the same DM makes this insert wait for it, then do nothing.
      const inserted = await one<ConversationRow>(
        client,
        `INSERT INTO conversations (id, kind, title, created_by, created_at, dm_key) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (dm_key) DO NOTHING
         RETURNING ${conversationColumns}`,
        [conversation.id, conversation.kind, conversation.title, conversation.createdBy, conversation.createdAt, dmKey],
      );
      if (!inserted) {
        const existing = await one<ConversationRow>(client, `SELECT ${conversationColumns} FROM conversations WHERE dm_key = $1`, [dmKey]);
        if (!existing) throw new Error(`DM ${dmKey} conflicted but cannot be read back`);
        return { conversation: toConversation(existing), created: false };
      }
      await client.query(
        `INSERT INTO members (conversation_id, user_id, role, joined_at)
         SELECT $1, m.user_id, m.role, $4::bigint FROM unnest($2::text[], $3::text[]) AS m (user_id, role)
         ON CONFLICT (conversation_id, user_id) DO NOTHING`,
        [conversation.id, conversation.members.map((member) => member.userId), conversation.members.map((member) => member.role), conversation.createdAt],
      );
      if (conversation.kind === 'group') await event(client, conversation.id, conversation.createdAt, 'created', conversation.createdBy, null, conversation.title);
      return { conversation: toConversation(inserted), created: true };
    });
  }

  async getConversation(id: ConversationId): Promise<ConversationRecord | null> {
    const row = await one<ConversationRow>(this.#pool, `SELECT ${conversationColumns} FROM conversations WHERE id = $1`, [id]);
    return row ? toConversation(row) : null;
  }

  async listConversations(userId: UserId): Promise<ConversationRecord[]> {
    const rows = await all<ConversationRow>(
      this.#pool,
      `SELECT ${conversationColumns} FROM conversations
       WHERE id IN (SELECT conversation_id FROM members WHERE user_id = $1)
       ORDER BY created_at, id COLLATE "C"`,
      [userId],
    );
    return rows.map(toConversation);
  }

  async listContacts(userId: UserId): Promise<{ userId: UserId; conversationId: ConversationId }[]> {
    const rows = await all<{ user_id: string; conversation_id: string }>(
      this.#pool,
      `SELECT other.user_id, other.conversation_id FROM members mine
       JOIN members other ON other.conversation_id = mine.conversation_id AND other.user_id <> mine.user_id
       WHERE mine.user_id = $1`,
      [userId],
    );
    return rows.map((row) => ({ userId: row.user_id as UserId, conversationId: row.conversation_id as ConversationId }));
  }

  async listMemberships(userId: UserId): Promise<Membership[]> {
    const rows = await all<MembershipRow>(
      this.#pool,
      `SELECT ${membershipColumns} FROM members mine JOIN conversations c ON c.id = mine.conversation_id
       WHERE mine.user_id = $1 ORDER BY c.created_at, c.id COLLATE "C"`,
      [userId],
    );
    return rows.map(toMembership);
  }

  async getMembers(id: ConversationId): Promise<MemberRecord[]> {
    const rows = await all<MemberRow>(
      this.#pool,
      'SELECT user_id, role, joined_at FROM members WHERE conversation_id = $1 ORDER BY joined_at, user_id COLLATE "C"',
      [id],
    );
    return rows.map(toMember);
  }

  async getMemberRole(id: ConversationId, userId: UserId): Promise<Role | null> {
    const row = await one<MemberRow>(this.#pool, 'SELECT user_id, role, joined_at FROM members WHERE conversation_id = $1 AND user_id = $2', [id, userId]);
    return row ? toMember(row).role : null;
  }

  async getMemberRoles(pairs: readonly { conversationId: ConversationId; userId: UserId }[]): Promise<{ conversationId: ConversationId; userId: UserId; role: Role }[]> {
    if (pairs.length === 0) return [];
    const rows = await all<{ conversation_id: string; user_id: string; role: string }>(
      this.#pool,
      `SELECT m.conversation_id, m.user_id, m.role FROM unnest($1::text[], $2::text[]) AS p (conversation_id, user_id)
       JOIN members m ON m.conversation_id = p.conversation_id AND m.user_id = p.user_id`,
      [pairs.map((pair) => pair.conversationId), pairs.map((pair) => pair.userId)],
    );
    return rows.map((row) => ({ conversationId: row.conversation_id as ConversationId, userId: row.user_id as UserId, role: row.role as Role }));
  }

  async addMembers(id: ConversationId, userIds: readonly UserId[], role: Role, now: number, by: UserId): Promise<UserId[]> {
    return inTransaction(this.#pool, async (client) => {
      if (!(await one(client, 'SELECT 1 AS found FROM conversations WHERE id = $1', [id]))) throw new OutpostError('notFound', 'no such conversation');
      const rows = await all<{ user_id: string }>(
        client,
        `INSERT INTO members (conversation_id, user_id, role, joined_at)
         SELECT $1, user_id, $3::text, $4::bigint FROM unnest($2::text[]) AS m (user_id)
         ON CONFLICT (conversation_id, user_id) DO NOTHING
         RETURNING user_id`,
        [id, userIds, role, now],
      );
      const added = inGivenOrder(userIds, rows.map((row) => row.user_id) as UserId[], (userId) => userId);
      if (added.length > 0) await client.query('DELETE FROM former_members WHERE conversation_id = $1 AND user_id = ANY($2::text[])', [id, added]);
      for (const userId of added) await event(client, id, now, 'added', by, userId, null);
      return added;
    });
  }

  async removeMember(id: ConversationId, userId: UserId, removedBy: UserId | null, now: number): Promise<boolean> {
    return inTransaction(this.#pool, async (client) => {
      const result = await client.query('DELETE FROM members WHERE conversation_id = $1 AND user_id = $2', [id, userId]);
      if ((result.rowCount ?? 0) === 0) return false;
      await client.query(
        `INSERT INTO former_members (conversation_id, user_id, left_at, removed_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET left_at = EXCLUDED.left_at, removed_by = EXCLUDED.removed_by`,
        [id, userId, now, removedBy],
      );
      if (removedBy === null) await event(client, id, now, 'left', userId, null, null);
      else await event(client, id, now, 'removed', removedBy, userId, null);
      return true;
    });
  }

  async getFormerMembers(id: ConversationId): Promise<FormerMemberRecord[]> {
    const rows = await all<FormerMemberRow>(
      this.#pool,
      'SELECT user_id, left_at, removed_by FROM former_members WHERE conversation_id = $1 ORDER BY left_at, user_id COLLATE "C"',
      [id],
    );
    return rows.map(toFormerMember);
  }

  async listRemovals(userId: UserId, limit: number): Promise<(FormerMemberRecord & { conversation: ConversationRecord })[]> {
    const rows = await all<FormerMemberRow & ConversationRow>(
      this.#pool,
      `SELECT f.user_id, f.left_at, f.removed_by, ${conversationColumns.split(', ').map((c) => `c.${c}`).join(', ')}
       FROM former_members f JOIN conversations c ON c.id = f.conversation_id
       WHERE f.user_id = $1 ORDER BY f.left_at DESC LIMIT $2`,
      [userId, limit],
    );
    return rows.map((row) => ({ ...toFormerMember(row), conversation: toConversation(row) }));
  }

  async setTitle(id: ConversationId, title: string, by: UserId, now: number): Promise<boolean> {
    return inTransaction(this.#pool, async (client) => {
      const result = await client.query('UPDATE conversations SET title = $2 WHERE id = $1', [id, title]);
      if ((result.rowCount ?? 0) === 0) return false;
      await event(client, id, now, 'renamed', by, null, title);
      return true;
    });
  }

  async listEvents(id: ConversationId, limit: number): Promise<ConversationEvent[]> {
    const rows = await all<EventRow>(this.#pool, `SELECT ${eventColumns} FROM conversation_events WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2`, [id, limit]);
    return rows.reverse().map(toEvent);
  }

  async setMemberRole(id: ConversationId, userId: UserId, role: Role): Promise<boolean> {
    const result = await this.#pool.query('UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2', [id, userId, role]);
    return (result.rowCount ?? 0) > 0;
  }
}

/** Records an event; called inside the transaction of the change it tells of. */
async function event(client: pg.PoolClient, id: ConversationId, at: number, kind: ConversationEvent['kind'], actor: UserId, subject: UserId | null, title: string | null): Promise<void> {
  await client.query('INSERT INTO conversation_events (conversation_id, at, kind, actor, subject, title) VALUES ($1, $2, $3, $4, $5, $6)', [id, at, kind, actor, subject, title]);
}
