// The update log on SQLite. A commit is one BEGIN IMMEDIATE transaction (SQLite has one writer
// at a time, so reading the facts and writing the rows cannot interleave with another commit).
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { CLAIM_WINDOW_MS, factKeys, numberKey, planCommit, type CommitFacts, type CommitRows } from '../commitPlan.ts';
import { asBuffer, toAttachment, toBytes, toNumbered, type FileRow, type NumberedRow } from '../rows.ts';
import type { CommitOutcome, LogEntry, LogWrite, StoredDocument, UpdateLog } from '../UpdateLog.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

export class SqliteUpdateLog implements UpdateLog {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async load(doc: string): Promise<StoredDocument> {
    return this.#sql.deferred(() => this.#load(doc));
  }

  async after(doc: string, version: number): Promise<LogEntry[] | null> {
    return this.#sql.deferred(() => {
      const baseVersion = this.#sql.get<{ version: number }>('SELECT version FROM doc_bases WHERE doc_name = ?', doc)?.version ?? 0;
      if (baseVersion > version) return null;
      return this.#entries(doc, version);
    });
  }

  async countEntries(doc: string): Promise<number> {
    return this.#sql.count('SELECT count(*) AS n FROM doc_log WHERE doc_name = ?', doc);
  }

  async commit(writes: readonly LogWrite[], now: number): Promise<CommitOutcome[]> {
    if (writes.length === 0) return [];
    return this.#sql.immediate(() => {
      const { outcomes, rows } = planCommit(writes, this.#facts(writes, now), now);
      this.#write(rows);
      return outcomes;
    });
  }

  async compact(doc: string, merge: (parts: Uint8Array[]) => Uint8Array): Promise<void> {
    const stored = await this.load(doc);
    if (stored.entries.length === 0) return;
    const merged = merge(stored.base ? [stored.base, ...stored.entries.map((e) => e.update)] : stored.entries.map((e) => e.update));
    this.#sql.immediate(() => {
      this.#sql.run(
        `INSERT INTO doc_bases (doc_name, version, base) VALUES (?, ?, ?)
         ON CONFLICT (doc_name) DO UPDATE SET version = excluded.version, base = excluded.base WHERE doc_bases.version < excluded.version`,
        doc, stored.version, asBuffer(merged),
      );
      this.#sql.run('DELETE FROM doc_log WHERE doc_name = ? AND version <= ?', doc, stored.version);
    });
  }

  #load(doc: string): StoredDocument {
    const base = this.#sql.get<{ version: number; base: Buffer }>('SELECT version, base FROM doc_bases WHERE doc_name = ?', doc);
    const baseVersion = base?.version ?? 0;
    const entries = this.#entries(doc, baseVersion);
    return { base: base ? toBytes(base.base) : null, baseVersion, entries, version: entries.at(-1)?.version ?? baseVersion };
  }

  #entries(doc: string, after: number): LogEntry[] {
    return this.#sql
      .all<{ version: number; update: Buffer }>('SELECT version, "update" FROM doc_log WHERE doc_name = ? AND version > ? ORDER BY version', doc, after)
      .map((row) => ({ version: row.version, update: toBytes(row.update) }));
  }

  #facts(writes: readonly LogWrite[], now: number): CommitFacts {
    const keys = factKeys(writes);
    const facts: CommitFacts = { heads: new Map(), conversations: new Map(), numbered: new Map(), owners: new Map(), recentClaims: new Map(), files: new Map() };
    for (const doc of keys.docs) {
      const row = this.#sql.get<{ version: number }>('SELECT version FROM doc_heads WHERE doc_name = ?', doc);
      facts.heads.set(doc, row?.version ?? 0);
    }
    for (const id of [...keys.numberingConversations, ...keys.readConversations]) {
      const row = this.#sql.get<{ last_seq: number; head: number; head_count: number }>('SELECT last_seq, head, head_count FROM conversations WHERE id = ?', id);
      if (row) facts.conversations.set(id as ConversationId, { lastSeq: row.last_seq, head: row.head, headCount: row.head_count });
    }
    for (const { conversationId, id } of keys.messageIds) {
      const row = this.#sql.get<NumberedRow>('SELECT id, seq, segment, received_at FROM messages WHERE conversation_id = ? AND id = ?', conversationId, id);
      if (row) facts.numbered.set(numberKey(conversationId, id), toNumbered(row));
    }
    for (const { doc, clientId } of keys.clients) {
      const row = this.#sql.get<{ user_id: string }>('SELECT user_id FROM doc_clients WHERE doc_name = ? AND client_id = ?', doc, clientId);
      if (row) facts.owners.set(`${doc}/${clientId}`, row.user_id as UserId);
    }
    for (const { doc, userId } of keys.claimants) {
      const n = this.#sql.count('SELECT count(*) AS n FROM doc_clients WHERE doc_name = ? AND user_id = ? AND claimed_at > ?', doc, userId, now - CLAIM_WINDOW_MS);
      facts.recentClaims.set(`${doc}/${userId}`, n);
    }
    for (const id of keys.files) {
      const row = this.#sql.get<FileRow>('SELECT id, conversation_id, uploader, name, type, size, width, height, placeholder, message_id FROM files WHERE id = ?', id);
      if (row) {
        facts.files.set(id, {
          conversationId: row.conversation_id as ConversationId,
          uploader: row.uploader as UserId,
          messageId: row.message_id as MessageId | null,
          entry: toAttachment(row),
        });
      }
    }
    return facts;
  }

  #write(rows: CommitRows): void {
    for (const entry of rows.entries) this.#sql.run('INSERT INTO doc_log (doc_name, version, "update") VALUES (?, ?, ?)', entry.doc, entry.version, asBuffer(entry.update));
    for (const head of rows.heads) {
      this.#sql.run(
        'INSERT INTO doc_heads (doc_name, version) VALUES (?, ?) ON CONFLICT (doc_name) DO UPDATE SET version = excluded.version',
        head.doc, head.version,
      );
    }
    for (const m of rows.messages) {
      this.#sql.run(
        `INSERT INTO messages (conversation_id, id, seq, segment, author, created_at, received_at, body, reply_to)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        m.conversationId, m.id, m.seq, m.segment, m.author, m.createdAt, m.receivedAt, m.body, m.replyTo,
      );
    }
    for (const c of rows.conversations) this.#sql.run('UPDATE conversations SET last_seq = ?, head = ?, head_count = ? WHERE id = ?', c.lastSeq, c.head, c.headCount, c.id);
    for (const read of rows.reads) {
      this.#sql.run(
        `INSERT INTO read_positions (conversation_id, user_id, seq) VALUES (?, ?, ?)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = max(seq, excluded.seq)`,
        read.conversationId, read.userId, read.seq,
      );
    }
    for (const { fileId, messageId } of rows.attachments) this.#sql.run('UPDATE files SET message_id = ? WHERE id = ?', messageId, fileId);
    for (const claim of rows.claims) {
      this.#sql.run('INSERT INTO doc_clients (doc_name, client_id, user_id, claimed_at) VALUES (?, ?, ?, ?)', claim.doc, claim.clientId, claim.userId, claim.at);
    }
  }
}

