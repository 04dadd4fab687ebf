// Storage on Postgres, for many stateless nodes sharing one database. Correctness across nodes
// comes from row locks (numbering, token rotation) and advisory locks (migrations, and the
// update log in updateLog.ts), never from a node's memory.
import type pg from 'pg';
import { OutpostError, type ConversationId, type MessageId, type Role, type UserId } from '@outpost/shared-schema';
import { directKey } from '../directKey.ts';
import { pendingMigrations } from '../migrations/Migration.ts';
import { postgresMigrations, postgresMigrationsTable } from '../migrations/postgres.ts';
import {
  conversationColumns,
  inGivenOrder,
  messageColumns,
  numberOf,
  numberedColumns,
  toConversation,
  toMember,
  toMessage,
  toNumbered,
  toUser,
  userColumns,
  type ConversationRow,
  type MemberRow,
  type MessageRow,
  type NumberedRow,
  type UserRow,
  likeMention,
} from '../rows.ts';
import type {
  ConversationRecord,
  MemberRecord,
  MessageRecord,
  NewConversation,
  NewMessage,
  NumberedMessage,
  RefreshTokenRecord,
  RotateResult,
  Storage,
  StoredDocument,
  UserRecord,
} from '../Storage.ts';
import { createPool, type PoolOptions } from './pool.ts';
import { all, count, one, type Queryable } from './query.ts';
import { inTransaction } from './transaction.ts';
import { appendUpdate, compact, countUpdates, loadDocument } from './updateLog.ts';

/** Advisory lock key (two-key form, with 0) that serialises migrations across nodes. */
const MIGRATION_LOCK = 0x6f75_0001;

/**
 * Storage on a Postgres database through a pg connection pool. Several instances (nodes) may
 * share one database; every documented guarantee holds across them.
 *
 * @example
 * const storage = new PostgresStorage('postgres://outpost@db/outpost');
 * await storage.migrate();
 */
export class PostgresStorage implements Storage {
  readonly #pool: pg.Pool;

  constructor(connectionString: string, options: PoolOptions = {}) {
    this.#pool = createPool(connectionString, options);
  }

  async migrate(): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK}, 0)`);
      await client.query(postgresMigrationsTable);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(rows.map((row) => row.version));
      for (const migration of pendingMigrations(postgresMigrations, applied)) {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
      }
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  // ── users ──

  async createUser(user: UserRecord): Promise<void> {
    const result = await this.#pool.query(
      `INSERT INTO users (${userColumns}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING`,
      [user.id, user.username, user.displayName, user.passwordHash, user.createdAt],
    );
    if (result.rowCount === 0) throw new OutpostError('conflict', 'username is taken');
  }

  async getUserById(id: UserId): Promise<UserRecord | null> {
    const row = await one<UserRow>(this.#pool, `SELECT ${userColumns} FROM users WHERE id = $1`, [id]);
    return row ? toUser(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const row = await one<UserRow>(this.#pool, `SELECT ${userColumns} FROM users WHERE username = $1`, [username]);
    return row ? toUser(row) : null;
  }

  async getUsersByIds(ids: readonly UserId[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = await all<UserRow>(this.#pool, `SELECT ${userColumns} FROM users WHERE id = ANY($1::text[])`, [ids]);
    return inGivenOrder(ids, rows.map(toUser), (user) => user.id);
  }

  async searchUsers(query: string, limit: number): Promise<UserRecord[]> {
    // COLLATE "C" orders like SQLite does, whatever the database's locale.
    const rows = await all<UserRow>(
      this.#pool,
      `SELECT ${userColumns} FROM users
       WHERE strpos(lower(username), $1) > 0 OR strpos(lower(display_name), $1) > 0
       ORDER BY username COLLATE "C" LIMIT $2`,
      [query.toLowerCase(), limit],
    );
    return rows.map(toUser);
  }

  // ── refresh tokens ──

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [token.id, token.familyId, token.userId, token.tokenHash, token.expiresAt, token.createdAt],
    );
  }

  async rotateRefreshToken(
    tokenHash: string,
    next: Omit<RefreshTokenRecord, 'familyId' | 'userId'>,
    now: number,
  ): Promise<RotateResult> {
    return inTransaction(this.#pool, async (client): Promise<RotateResult> => {
      // FOR UPDATE: a second rotation of the same token waits here, then sees it used.
      const row = await one<{ family_id: string; user_id: string; expires_at: number; used_at: number | null; revoked_at: number | null }>(
        client,
        'SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE',
        [tokenHash],
      );
      if (!row) return { outcome: 'unknown' };
      const userId = row.user_id as UserId;
      const familyId = row.family_id;
      if (row.used_at !== null || row.revoked_at !== null) {
        await client.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, now]);
        return { outcome: 'reused', userId, familyId };
      }
      if (row.expires_at <= now) return { outcome: 'expired' };
      await client.query('UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [tokenHash, now]);
      await client.query(
        `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [next.id, familyId, userId, next.tokenHash, next.expiresAt, next.createdAt],
      );
      return { outcome: 'rotated', userId, familyId };
    });
  }

  async revokeRefreshToken(tokenHash: string): Promise<string | null> {
    const row = await one<{ family_id: string }>(
      this.#pool,
      `WITH token AS (SELECT family_id FROM refresh_tokens WHERE token_hash = $1),
            revoked AS (
              UPDATE refresh_tokens SET revoked_at = $2
              WHERE family_id IN (SELECT family_id FROM token) AND revoked_at IS NULL
            )
       SELECT family_id FROM token`,
      [tokenHash, Date.now()],
    );
    return row?.family_id ?? null;
  }

  async isSessionActive(familyId: string, now: number): Promise<boolean> {
    return (
      (await count(
        this.#pool,
        'SELECT count(*) AS n FROM refresh_tokens WHERE family_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2',
        [familyId, now],
      )) > 0
    );
  }

  async claimClients(docName: string, userId: UserId, clientIds: readonly number[]): Promise<number[]> {
    if (clientIds.length === 0) return [];
    const ids = [...new Set(clientIds)];
    const owners = await all<{ client_id: number; user_id: string }>(
      this.#pool,
      `WITH claimed AS (
         INSERT INTO doc_clients (doc_name, client_id, user_id)
         SELECT $1, unnest($2::bigint[]), $3
         ON CONFLICT DO NOTHING
         RETURNING client_id, user_id
       )
       SELECT client_id, user_id FROM claimed
       UNION ALL
       SELECT client_id, user_id FROM doc_clients WHERE doc_name = $1 AND client_id = ANY($2::bigint[])`,
      [docName, ids, userId],
    );
    return [...new Set(owners.filter((o) => o.user_id !== userId).map((o) => Number(o.client_id)))];
  }

  // ── conversations and members ──

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
        [
          conversation.id,
          conversation.members.map((member) => member.userId),
          conversation.members.map((member) => member.role),
          conversation.createdAt,
        ],
      );
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

  async getMembers(id: ConversationId): Promise<MemberRecord[]> {
    const rows = await all<MemberRow>(
      this.#pool,
      'SELECT user_id, role, joined_at FROM members WHERE conversation_id = $1 ORDER BY joined_at, user_id COLLATE "C"',
      [id],
    );
    return rows.map(toMember);
  }

  async getMemberRole(id: ConversationId, userId: UserId): Promise<Role | null> {
    const row = await one<MemberRow>(
      this.#pool,
      'SELECT user_id, role, joined_at FROM members WHERE conversation_id = $1 AND user_id = $2',
      [id, userId],
    );
    return row ? toMember(row).role : null;
  }

  async addMembers(id: ConversationId, userIds: readonly UserId[], role: Role, now: number): Promise<UserId[]> {
    return inTransaction(this.#pool, async (client) => {
      await requireConversation(client, id);
      const rows = await all<{ user_id: string }>(
        client,
        `INSERT INTO members (conversation_id, user_id, role, joined_at)
         SELECT $1, user_id, $3::text, $4::bigint FROM unnest($2::text[]) AS m (user_id)
         ON CONFLICT (conversation_id, user_id) DO NOTHING
         RETURNING user_id`,
        [id, userIds, role, now],
      );
      return inGivenOrder(userIds, rows.map((row) => row.user_id as UserId), (userId) => userId);
    });
  }

  async setTitle(id: ConversationId, title: string): Promise<boolean> {
    const result = await this.#pool.query('UPDATE conversations SET title = $2 WHERE id = $1', [id, title]);
    return (result.rowCount ?? 0) > 0;
  }

  async setMemberRole(id: ConversationId, userId: UserId, role: Role): Promise<boolean> {
    const result = await this.#pool.query('UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2', [id, userId, role]);
    return (result.rowCount ?? 0) > 0;
  }

  async removeMember(id: ConversationId, userId: UserId): Promise<boolean> {
    const result = await this.#pool.query('DELETE FROM members WHERE conversation_id = $1 AND user_id = $2', [id, userId]);
    return (result.rowCount ?? 0) > 0;
  }

  async advanceHead(id: ConversationId, from: number): Promise<number> {
    const moved = await one<{ head: number }>(
      this.#pool,
      'UPDATE conversations SET head = $2 + 1 WHERE id = $1 AND head = $2 RETURNING head',
      [id, from],
    );
    if (moved) return moved.head;
    return (await requireConversation(this.#pool, id)).head;
  }

  // ── sequencing and the message projection ──

  async numberMessages(id: ConversationId, messages: readonly NewMessage[], receivedAt: number): Promise<NumberedMessage[]> {
    if (messages.length === 0) return [];
    return inTransaction(this.#pool, async (client) => {
      // The row lock comes first: whoever holds it sees every number committed before it, so
      // "which ids are numbered" and "what comes next" cannot go stale until COMMIT.
      const conversation = await one<{ last_seq: number }>(client, 'SELECT last_seq FROM conversations WHERE id = $1 FOR UPDATE', [id]);
      if (!conversation) throw new OutpostError('notFound', 'no such conversation');
      const ids = [...new Set(messages.map((message) => message.id))];
      const existing = await all<NumberedRow>(
        client,
        `SELECT ${numberedColumns} FROM messages WHERE conversation_id = $1 AND id = ANY($2::text[])`,
        [id, ids],
      );
      const numbered = new Map<string, NumberedMessage>(existing.map((row) => [row.id, toNumbered(row)]));
      const fresh: NewMessage[] = [];
      let seq = conversation.last_seq;
      for (const message of messages) {
        if (numbered.has(message.id)) continue;
        seq += 1;
        fresh.push(message);
        numbered.set(message.id, { id: message.id, seq, segment: message.segment, receivedAt });
      }
      if (fresh.length > 0) {
        await client.query(
          `INSERT INTO messages (conversation_id, id, seq, segment, author, created_at, received_at, body, reply_to)
           SELECT $1, m.id, m.seq, m.segment, m.author, m.created_at, $2::bigint, m.body, m.reply_to
           FROM unnest($3::text[], $4::bigint[], $5::int[], $6::text[], $7::bigint[], $8::text[], $9::text[])
             AS m (id, seq, segment, author, created_at, body, reply_to)`,
          [
            id,
            receivedAt,
            fresh.map((message) => message.id),
            fresh.map((message) => numberOf(numbered, message.id).seq),
            fresh.map((message) => message.segment),
            fresh.map((message) => message.author),
            fresh.map((message) => message.createdAt),
            fresh.map((message) => message.body),
            fresh.map((message) => message.replyTo ?? null),
          ],
        );
        await client.query('UPDATE conversations SET last_seq = $2 WHERE id = $1', [id, seq]);
      }
      return messages.map((message) => numberOf(numbered, message.id));
    });
  }

  async listSegmentNumbers(id: ConversationId, segment: number): Promise<NumberedMessage[]> {
    const rows = await all<NumberedRow>(
      this.#pool,
      `SELECT ${numberedColumns} FROM messages WHERE conversation_id = $1 AND segment = $2 ORDER BY seq`,
      [id, segment],
    );
    return rows.map(toNumbered);
  }

  async countSegmentMessages(id: ConversationId, segment: number): Promise<number> {
    return count(this.#pool, 'SELECT count(*) AS n FROM messages WHERE conversation_id = $1 AND segment = $2', [id, segment]);
  }

  async recordEdit(id: ConversationId, messageId: MessageId, body: string, editedAt: number): Promise<void> {
    // An edit older than the one already recorded (a late replay) must not win.
    await this.#pool.query(
      `UPDATE messages SET body = $3, edited_at = $4
       WHERE conversation_id = $1 AND id = $2 AND (edited_at IS NULL OR edited_at <= $4)`,
      [id, messageId, body, editedAt],
    );
  }

  async recordDeletion(id: ConversationId, messageId: MessageId, deletedAt: number): Promise<void> {
    await this.#pool.query(
      'UPDATE messages SET deleted_at = $3 WHERE conversation_id = $1 AND id = $2 AND deleted_at IS NULL',
      [id, messageId, deletedAt],
    );
  }

  async getMessage(id: ConversationId, messageId: MessageId): Promise<MessageRecord | null> {
    const row = await one<MessageRow>(
      this.#pool,
      `SELECT ${messageColumns} FROM messages WHERE conversation_id = $1 AND id = $2`,
      [id, messageId],
    );
    return row ? toMessage(row) : null;
  }

  async lastMessage(id: ConversationId): Promise<MessageRecord | null> {
    const row = await one<MessageRow>(
      this.#pool,
      `SELECT ${messageColumns} FROM messages WHERE conversation_id = $1 AND deleted_at IS NULL ORDER BY seq DESC LIMIT 1`,
      [id],
    );
    return row ? toMessage(row) : null;
  }

  async countUnread(id: ConversationId, userId: UserId, afterSeq: number): Promise<number> {
    return count(
      this.#pool,
      `SELECT count(*) AS n FROM messages
       WHERE conversation_id = $1 AND seq > $2 AND author <> $3 AND deleted_at IS NULL`,
      [id, afterSeq, userId],
    );
  }

  async countMentions(id: ConversationId, userId: UserId, afterSeq: number, handle: string): Promise<number> {
    return count(
      this.#pool,
      `SELECT count(*) AS n FROM messages
       WHERE conversation_id = $1 AND seq > $2 AND author <> $3 AND deleted_at IS NULL AND body ILIKE $4 ESCAPE '\\'`,
      [id, afterSeq, userId, likeMention(handle)],
    );
  }

  // ── read positions ──

  async recordRead(id: ConversationId, userId: UserId, seq: number): Promise<number> {
    const row = await one<{ seq: number }>(
      this.#pool,
      `INSERT INTO read_positions (conversation_id, user_id, seq) VALUES ($1, $2, $3)
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = GREATEST(read_positions.seq, EXCLUDED.seq)
       RETURNING seq`,
      [id, userId, seq],
    );
    if (!row) throw new Error('upsert of a read position returned no row');
    return row.seq;
  }

  async getReadPositions(id: ConversationId): Promise<Map<UserId, number>> {
    const rows = await all<{ user_id: string; seq: number }>(
      this.#pool,
      'SELECT user_id, seq FROM read_positions WHERE conversation_id = $1',
      [id],
    );
    return new Map(rows.map((row) => [row.user_id as UserId, row.seq]));
  }

  // ── the update log and snapshots ──

  async appendUpdate(docName: string, update: Uint8Array): Promise<number> {
    return appendUpdate(this.#pool, docName, update);
  }

  async loadDocument(docName: string): Promise<StoredDocument> {
    return loadDocument(this.#pool, docName);
  }

  async countUpdates(docName: string): Promise<number> {
    return countUpdates(this.#pool, docName);
  }

  async compact(docName: string, merge: (parts: Uint8Array[]) => Uint8Array): Promise<void> {
    return compact(this.#pool, docName, merge);
  }
}

async function requireConversation(client: Queryable, id: ConversationId): Promise<{ head: number; last_seq: number }> {
  const row = await one<{ head: number; last_seq: number }>(client, 'SELECT head, last_seq FROM conversations WHERE id = $1', [id]);
  if (!row) throw new OutpostError('notFound', 'no such conversation');
  return row;
}
