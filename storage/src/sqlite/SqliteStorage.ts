// The embedded default: Storage on one SQLite file (better-sqlite3). Every write that reads
// before it writes runs in a BEGIN IMMEDIATE transaction, so several instances on the same
// file (or several processes) still number messages without gaps.
import Database from 'better-sqlite3';
import { OutpostError, type ConversationId, type MessageId, type Role, type UserId } from '@outpost/shared-schema';
import { directKey } from '../directKey.ts';
import { pendingMigrations } from '../migrations/Migration.ts';
import { sqliteMigrations, sqliteMigrationsTable } from '../migrations/sqlite.ts';
import {
  conversationColumns,
  messageColumns,
  numberedColumns,
  asBuffer,
  inGivenOrder,
  numberOf,
  toBytes,
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

type SqlValue = string | number | bigint | Buffer | null;

/** How long a write waits for another connection's transaction before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Storage on a SQLite file: WAL journal, `synchronous=FULL` (an acknowledged append survives
 * `kill -9` and power loss), foreign keys on.
 *
 * @example
 * const storage = new SqliteStorage('/var/lib/outpost/outpost.db');
 * await storage.migrate();
 */
export class SqliteStorage implements Storage {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement<SqlValue[]>>();

  /** Opens (or creates) the database file; `':memory:'` gives a private in-memory database. */
  constructor(filename: string) {
    this.#db = new Database(filename);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.#db.pragma('foreign_keys = ON');
    // SQLite's own lower() folds ASCII only; search should match "Émile" with "émile" too.
    this.#db.function('outpost_lower', { deterministic: true }, (value: unknown) =>
      typeof value === 'string' ? value.toLowerCase() : value,
    );
  }

  async migrate(): Promise<void> {
    this.#db.exec(sqliteMigrationsTable);
    this.#immediate(() => {
      const applied = new Set(this.#all<{ version: number }>('SELECT version FROM schema_migrations').map((row) => row.version));
      for (const migration of pendingMigrations(sqliteMigrations, applied)) {
        this.#db.exec(migration.sql);
        this.#run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', migration.version, Date.now());
      }
    });
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  // ── users ──

  async createUser(user: UserRecord): Promise<void> {
    const result = this.#run(
      `INSERT INTO users (${userColumns}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
      user.id, user.username, user.displayName, user.passwordHash, user.createdAt,
    );
    if (result.changes === 0) throw new OutpostError('conflict', 'username is taken');
  }

  async getUserById(id: UserId): Promise<UserRecord | null> {
    const row = this.#get<UserRow>(`SELECT ${userColumns} FROM users WHERE id = ?`, id);
    return row ? toUser(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const row = this.#get<UserRow>(`SELECT ${userColumns} FROM users WHERE username = ?`, username);
    return row ? toUser(row) : null;
  }

  async getUsersByIds(ids: readonly UserId[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = this.#all<UserRow>(
      `SELECT ${userColumns} FROM users WHERE id IN (SELECT value FROM json_each(?))`,
      JSON.stringify(ids),
    );
    return inGivenOrder(ids, rows.map(toUser), (user) => user.id);
  }

  async searchUsers(query: string, limit: number): Promise<UserRecord[]> {
    const needle = query.toLowerCase();
    const rows = this.#all<UserRow>(
      `SELECT ${userColumns} FROM users
       WHERE instr(outpost_lower(username), ?) > 0 OR instr(outpost_lower(display_name), ?) > 0
       ORDER BY username LIMIT ?`,
      needle, needle, limit,
    );
    return rows.map(toUser);
  }

  // ── refresh tokens ──

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.#run(
      `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      token.id, token.familyId, token.userId, token.tokenHash, token.expiresAt, token.createdAt,
    );
  }

  async rotateRefreshToken(
    tokenHash: string,
    next: Omit<RefreshTokenRecord, 'familyId' | 'userId'>,
    now: number,
  ): Promise<RotateResult> {
    return this.#immediate((): RotateResult => {
      const row = this.#get<{ family_id: string; user_id: string; expires_at: number; used_at: number | null; revoked_at: number | null }>(
        'SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?',
        tokenHash,
      );
      if (!row) return { outcome: 'unknown' };
      const userId = row.user_id as UserId;
      const familyId = row.family_id;
      if (row.used_at !== null || row.revoked_at !== null) {
        this.#run('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL', now, familyId);
        return { outcome: 'reused', userId, familyId };
      }
      if (row.expires_at <= now) return { outcome: 'expired' };
      this.#run('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?', now, tokenHash);
      this.#run(
        `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        next.id, familyId, userId, next.tokenHash, next.expiresAt, next.createdAt,
      );
      return { outcome: 'rotated', userId, familyId };
    });
  }

  async revokeRefreshToken(tokenHash: string): Promise<string | null> {
    return this.#immediate(() => {
      const row = this.#get<{ family_id: string }>('SELECT family_id FROM refresh_tokens WHERE token_hash = ?', tokenHash);
      if (!row) return null;
      this.#run('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL', Date.now(), row.family_id);
      return row.family_id;
    });
  }

  async isSessionActive(familyId: string, now: number): Promise<boolean> {
    const row = this.#get<{ found: number }>(
      'SELECT count(*) AS found FROM refresh_tokens WHERE family_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?',
      familyId, now,
    );
    return (row?.found ?? 0) > 0;
  }

  async claimClients(docName: string, userId: UserId, clientIds: readonly number[]): Promise<number[]> {
    if (clientIds.length === 0) return [];
    return this.#immediate(() => {
      const taken: number[] = [];
      for (const clientId of new Set(clientIds)) {
        this.#run('INSERT INTO doc_clients (doc_name, client_id, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', docName, clientId, userId);
        const owner = this.#get<{ user_id: string }>('SELECT user_id FROM doc_clients WHERE doc_name = ? AND client_id = ?', docName, clientId);
        if (owner?.user_id !== userId) taken.push(clientId);
      }
      return taken;
    });
  }

  // ── conversations and members ──

  async createConversation(conversation: NewConversation): Promise<{ conversation: ConversationRecord; created: boolean }> {
    return this.#immediate(() => {
      const dmKey = directKey(conversation);
      if (dmKey !== null) {
        const existing = this.#get<ConversationRow>(`SELECT ${conversationColumns} FROM conversations WHERE dm_key = ?`, dmKey);
        if (existing) return { conversation: toConversation(existing), created: false };
      }
      this.#run(
        `INSERT INTO conversations (id, kind, title, created_by, created_at, dm_key) VALUES (?, ?, ?, ?, ?, ?)`,
        conversation.id, conversation.kind, conversation.title, conversation.createdBy, conversation.createdAt, dmKey,
      );
      for (const member of conversation.members) {
        this.#run(
          `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conversation_id, user_id) DO NOTHING`,
          conversation.id, member.userId, member.role, conversation.createdAt,
        );
      }
      const created = this.#get<ConversationRow>(`SELECT ${conversationColumns} FROM conversations WHERE id = ?`, conversation.id);
      if (!created) throw new Error(`conversation ${conversation.id} vanished inside its own transaction`);
      return { conversation: toConversation(created), created: true };
    });
  }

  async getConversation(id: ConversationId): Promise<ConversationRecord | null> {
    const row = this.#get<ConversationRow>(`SELECT ${conversationColumns} FROM conversations WHERE id = ?`, id);
    return row ? toConversation(row) : null;
  }

  async listConversations(userId: UserId): Promise<ConversationRecord[]> {
    const rows = this.#all<ConversationRow>(
      `SELECT ${conversationColumns} FROM conversations
       WHERE id IN (SELECT conversation_id FROM members WHERE user_id = ?)
       ORDER BY created_at, id`,
      userId,
    );
    return rows.map(toConversation);
  }

  async getMembers(id: ConversationId): Promise<MemberRecord[]> {
    const rows = this.#all<MemberRow>(
      'SELECT user_id, role, joined_at FROM members WHERE conversation_id = ? ORDER BY joined_at, user_id',
      id,
    );
    return rows.map(toMember);
  }

  async getMemberRole(id: ConversationId, userId: UserId): Promise<Role | null> {
    const row = this.#get<MemberRow>('SELECT user_id, role, joined_at FROM members WHERE conversation_id = ? AND user_id = ?', id, userId);
    return row ? toMember(row).role : null;
  }

  async addMembers(id: ConversationId, userIds: readonly UserId[], role: Role, now: number): Promise<UserId[]> {
    return this.#immediate(() => {
      this.#requireConversation(id);
      const added: UserId[] = [];
      for (const userId of new Set(userIds)) {
        const result = this.#run(
          `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conversation_id, user_id) DO NOTHING`,
          id, userId, role, now,
        );
        if (result.changes > 0) added.push(userId);
      }
      return added;
    });
  }

  async setTitle(id: ConversationId, title: string): Promise<boolean> {
    return this.#run('UPDATE conversations SET title = ? WHERE id = ?', title, id).changes > 0;
  }

  async setMemberRole(id: ConversationId, userId: UserId, role: Role): Promise<boolean> {
    return this.#run('UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?', role, id, userId).changes > 0;
  }

  async removeMember(id: ConversationId, userId: UserId): Promise<boolean> {
    return this.#run('DELETE FROM members WHERE conversation_id = ? AND user_id = ?', id, userId).changes > 0;
  }

  async advanceHead(id: ConversationId, from: number): Promise<number> {
    return this.#immediate(() => {
      this.#run('UPDATE conversations SET head = ? WHERE id = ? AND head = ?', from + 1, id, from);
      return this.#requireConversation(id).head;
    });
  }

  // ── sequencing and the message projection ──

  async numberMessages(id: ConversationId, messages: readonly NewMessage[], receivedAt: number): Promise<NumberedMessage[]> {
    if (messages.length === 0) return [];
    return this.#immediate(() => {
      const { last_seq: lastSeq } = this.#requireConversation(id);
      const ids = [...new Set(messages.map((message) => message.id))];
      const numbered = new Map<string, NumberedMessage>(
        this.#all<NumberedRow>(
          `SELECT ${numberedColumns} FROM messages WHERE conversation_id = ? AND id IN (SELECT value FROM json_each(?))`,
          id, JSON.stringify(ids),
        ).map((row) => [row.id, toNumbered(row)]),
      );
      let seq = lastSeq;
      for (const message of messages) {
        if (numbered.has(message.id)) continue;
        seq += 1;
        this.#run(
          `INSERT INTO messages (conversation_id, id, seq, segment, author, created_at, received_at, body, reply_to)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          id, message.id, seq, message.segment, message.author, message.createdAt, receivedAt, message.body, message.replyTo ?? null,
        );
        numbered.set(message.id, { id: message.id, seq, segment: message.segment, receivedAt });
      }
      if (seq !== lastSeq) this.#run('UPDATE conversations SET last_seq = ? WHERE id = ?', seq, id);
      return messages.map((message) => numberOf(numbered, message.id));
    });
  }

  async listSegmentNumbers(id: ConversationId, segment: number): Promise<NumberedMessage[]> {
    const rows = this.#all<NumberedRow>(
      `SELECT ${numberedColumns} FROM messages WHERE conversation_id = ? AND segment = ? ORDER BY seq`,
      id, segment,
    );
    return rows.map(toNumbered);
  }

  async countSegmentMessages(id: ConversationId, segment: number): Promise<number> {
    return this.#count('SELECT count(*) AS n FROM messages WHERE conversation_id = ? AND segment = ?', id, segment);
  }

  async recordEdit(id: ConversationId, messageId: MessageId, body: string, editedAt: number): Promise<void> {
    // An edit older than the one already recorded (a late replay) must not win.
    this.#run(
      `UPDATE messages SET body = ?, edited_at = ?
       WHERE conversation_id = ? AND id = ? AND (edited_at IS NULL OR edited_at <= ?)`,
      body, editedAt, id, messageId, editedAt,
    );
  }

  async recordDeletion(id: ConversationId, messageId: MessageId, deletedAt: number): Promise<void> {
    this.#run(
      'UPDATE messages SET deleted_at = ? WHERE conversation_id = ? AND id = ? AND deleted_at IS NULL',
      deletedAt, id, messageId,
    );
  }

  async getMessage(id: ConversationId, messageId: MessageId): Promise<MessageRecord | null> {
    const row = this.#get<MessageRow>(`SELECT ${messageColumns} FROM messages WHERE conversation_id = ? AND id = ?`, id, messageId);
    return row ? toMessage(row) : null;
  }

  async lastMessage(id: ConversationId): Promise<MessageRecord | null> {
    const row = this.#get<MessageRow>(
      `SELECT ${messageColumns} FROM messages WHERE conversation_id = ? AND deleted_at IS NULL ORDER BY seq DESC LIMIT 1`,
      id,
    );
    return row ? toMessage(row) : null;
  }

  async countUnread(id: ConversationId, userId: UserId, afterSeq: number): Promise<number> {
    return this.#count(
      `SELECT count(*) AS n FROM messages
       WHERE conversation_id = ? AND seq > ? AND author <> ? AND deleted_at IS NULL`,
      id, afterSeq, userId,
    );
  }

  async countMentions(id: ConversationId, userId: UserId, afterSeq: number, handle: string): Promise<number> {
    return this.#count(
      `SELECT count(*) AS n FROM messages
       WHERE conversation_id = ? AND seq > ? AND author <> ? AND deleted_at IS NULL AND body LIKE ? ESCAPE '\\'`,
      id, afterSeq, userId, likeMention(handle),
    );
  }

  // ── read positions ──

  async recordRead(id: ConversationId, userId: UserId, seq: number): Promise<number> {
    const row = this.#get<{ seq: number }>(
      `INSERT INTO read_positions (conversation_id, user_id, seq) VALUES (?, ?, ?)
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = max(seq, excluded.seq)
       RETURNING seq`,
      id, userId, seq,
    );
    if (!row) throw new Error('upsert of a read position returned no row');
    return row.seq;
  }

  async getReadPositions(id: ConversationId): Promise<Map<UserId, number>> {
    const rows = this.#all<{ user_id: string; seq: number }>('SELECT user_id, seq FROM read_positions WHERE conversation_id = ?', id);
    return new Map(rows.map((row) => [row.user_id as UserId, row.seq]));
  }

  // ── the update log and snapshots ──

  async appendUpdate(docName: string, update: Uint8Array): Promise<number> {
    const row = this.#get<{ position: number }>(
      'INSERT INTO doc_updates (doc_name, "update") VALUES (?, ?) RETURNING position',
      docName, asBuffer(update),
    );
    if (!row) throw new Error('append to the update log returned no position');
    return row.position;
  }

  async loadDocument(docName: string): Promise<StoredDocument> {
    // A read transaction, so snapshot and entries come from the same moment.
    return this.#db.transaction(() => this.#load(docName)).deferred();
  }

  async countUpdates(docName: string): Promise<number> {
    return this.#count(
      `SELECT count(*) AS n FROM doc_updates
       WHERE doc_name = ? AND position > coalesce((SELECT position FROM doc_snapshots WHERE doc_name = ?), 0)`,
      docName, docName,
    );
  }

  async compact(docName: string, merge: (parts: Uint8Array[]) => Uint8Array): Promise<void> {
    this.#immediate(() => {
      const stored = this.#load(docName);
      if (stored.updates.length === 0) return;
      const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
      this.#run(
        `INSERT INTO doc_snapshots (doc_name, snapshot, position) VALUES (?, ?, ?)
         ON CONFLICT (doc_name) DO UPDATE SET snapshot = excluded.snapshot, position = excluded.position`,
        docName, asBuffer(merge(parts)), stored.position,
      );
      this.#run('DELETE FROM doc_updates WHERE doc_name = ? AND position <= ?', docName, stored.position);
    });
  }

  // ── internals ──

  #load(docName: string): StoredDocument {
    const snapshot = this.#get<{ snapshot: Buffer; position: number }>(
      'SELECT snapshot, position FROM doc_snapshots WHERE doc_name = ?',
      docName,
    );
    const after = snapshot?.position ?? 0;
    const rows = this.#all<{ position: number; update: Buffer }>(
      'SELECT position, "update" FROM doc_updates WHERE doc_name = ? AND position > ? ORDER BY position',
      docName, after,
    );
    return {
      snapshot: snapshot ? toBytes(snapshot.snapshot) : null,
      updates: rows.map((row) => toBytes(row.update)),
      position: rows.at(-1)?.position ?? after,
    };
  }

  #requireConversation(id: ConversationId): { head: number; last_seq: number } {
    const row = this.#get<{ head: number; last_seq: number }>('SELECT head, last_seq FROM conversations WHERE id = ?', id);
    if (!row) throw new OutpostError('notFound', 'no such conversation');
    return row;
  }

  #immediate<T>(work: () => T): T {
    return this.#db.transaction(work).immediate();
  }

  #statement(sql: string): Database.Statement<SqlValue[]> {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare<SqlValue[]>(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.#statement(sql).get(...params) as T | undefined;
  }

  #all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.#statement(sql).all(...params) as T[];
  }

  #run(sql: string, ...params: SqlValue[]): Database.RunResult {
    return this.#statement(sql).run(...params);
  }

  #count(sql: string, ...params: SqlValue[]): number {
    return this.#get<{ n: number }>(sql, ...params)?.n ?? 0;
  }
}
