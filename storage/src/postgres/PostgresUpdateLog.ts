// The update log on Postgres, for many nodes. A commit locks the heads of its documents, then
// the conversations it numbers (both in sorted order, so two nodes' batches cannot deadlock),
// reads the facts, decides every write (commitPlan.ts) and writes the rows with one multi-row
// statement per table. Versions are assigned under the head lock, so a committed version k
// means 1..k are committed: compaction needs no lock beyond its own transaction.
import type pg from 'pg';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { CLAIM_WINDOW_MS, factKeys, numberKey, planCommit, type CommitFacts, type CommitRows } from '../commitPlan.ts';
import { asBuffer, toAttachment, toBytes, toNumbered, type FileRow, type NumberedRow } from '../rows.ts';
import type { CommitOutcome, LogEntry, LogWrite, StoredDocument, UpdateLog } from '../UpdateLog.ts';
import { all, count, type Queryable } from './query.ts';
import { inTransaction } from './transaction.ts';

export class PostgresUpdateLog implements UpdateLog {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async load(doc: string): Promise<StoredDocument> {
    // One statement, so base and entries come from one snapshot of the database even while
    // another node compacts.
    const rows = await all<{ is_base: boolean; version: number; bytes: Buffer }>(
      this.#pool,
      `SELECT true AS is_base, version, base AS bytes FROM doc_bases WHERE doc_name = $1
       UNION ALL
       SELECT false, version, "update" FROM doc_log
       WHERE doc_name = $1 AND version > coalesce((SELECT version FROM doc_bases WHERE doc_name = $1), 0)
       ORDER BY is_base DESC, version`,
      [doc],
    );
    const base = rows[0]?.is_base ? rows[0] : undefined;
    const entries = (base ? rows.slice(1) : rows).map((row) => ({ version: row.version, update: toBytes(row.bytes) }));
    const baseVersion = base?.version ?? 0;
    return { base: base ? toBytes(base.bytes) : null, baseVersion, entries, version: entries.at(-1)?.version ?? baseVersion };
  }

  async after(doc: string, version: number): Promise<LogEntry[] | null> {
    const rows = await all<{ is_base: boolean; version: number; bytes: Buffer }>(
      this.#pool,
      `SELECT true AS is_base, version, NULL::bytea AS bytes FROM doc_bases WHERE doc_name = $1 AND version > $2
       UNION ALL
       SELECT false, version, "update" FROM doc_log WHERE doc_name = $1 AND version > $2
       ORDER BY is_base DESC, version`,
      [doc, version],
    );
    if (rows[0]?.is_base) return null; // compacted past \`version\`: load again
    return rows.map((row) => ({ version: row.version, update: toBytes(row.bytes) }));
  }

  async countEntries(doc: string): Promise<number> {
    return count(this.#pool, 'SELECT count(*) AS n FROM doc_log WHERE doc_name = $1', [doc]);
  }

  async commit(writes: readonly LogWrite[], now: number): Promise<CommitOutcome[]> {
    if (writes.length === 0) return [];
    return inTransaction(this.#pool, async (client) => {
      const { outcomes, rows } = planCommit(writes, await facts(client, writes, now), now);
      await write(client, rows);
      return outcomes;
    });
  }

  async compact(doc: string, merge: (parts: Uint8Array[]) => Uint8Array): Promise<void> {
    const stored = await this.load(doc);
    if (stored.entries.length === 0) return;
    const parts = stored.entries.map((entry) => entry.update);
    const merged = merge(stored.base ? [stored.base, ...parts] : parts);
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO doc_bases (doc_name, version, base) VALUES ($1, $2, $3)
         ON CONFLICT (doc_name) DO UPDATE SET version = EXCLUDED.version, base = EXCLUDED.base WHERE doc_bases.version < EXCLUDED.version`,
        [doc, stored.version, asBuffer(merged)],
      );
      await client.query('DELETE FROM doc_log WHERE doc_name = $1 AND version <= $2', [doc, stored.version]);
    });
  }
}

async function facts(client: Queryable, writes: readonly LogWrite[], now: number): Promise<CommitFacts> {
  const keys = factKeys(writes);
  const result: CommitFacts = { heads: new Map(), conversations: new Map(), numbered: new Map(), owners: new Map(), recentClaims: new Map(), files: new Map() };

  await client.query('INSERT INTO doc_heads (doc_name, version) SELECT unnest($1::text[]), 0 ON CONFLICT DO NOTHING', [keys.docs]);
  for (const row of await all<{ doc_name: string; version: number }>(
    client,
    'SELECT doc_name, version FROM doc_heads WHERE doc_name = ANY($1::text[]) ORDER BY doc_name COLLATE "C" FOR UPDATE',
    [keys.docs],
  )) {
    result.heads.set(row.doc_name, row.version);
  }

  type ConversationFacts = { id: string; last_seq: number; head: number; head_count: number };
  if (keys.numberingConversations.length > 0) {
    // NO KEY UPDATE, not UPDATE: the read positions and messages this batch writes take KEY
    // SHARE locks on their conversations (foreign keys), which FOR UPDATE would block — two
    // batches each numbering one conversation and reading the other's would deadlock.
    for (const row of await all<ConversationFacts>(
      client,
      'SELECT id, last_seq, head, head_count FROM conversations WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C" FOR NO KEY UPDATE',
      [keys.numberingConversations],
    )) {
      result.conversations.set(row.id as ConversationId, { lastSeq: row.last_seq, head: row.head, headCount: row.head_count });
    }
  }
  if (keys.readConversations.length > 0) {
    // Read positions only need a last seq that never shrinks: no lock.
    for (const row of await all<ConversationFacts>(client, 'SELECT id, last_seq, head, head_count FROM conversations WHERE id = ANY($1::text[])', [keys.readConversations])) {
      result.conversations.set(row.id as ConversationId, { lastSeq: row.last_seq, head: row.head, headCount: row.head_count });
    }
  }
  if (keys.messageIds.length > 0) {
    for (const row of await all<NumberedRow & { conversation_id: string }>(
      client,
      `SELECT m.conversation_id, m.id, m.seq, m.segment, m.received_at
       FROM messages m JOIN unnest($1::text[], $2::text[]) AS k (conversation_id, id) ON m.conversation_id = k.conversation_id AND m.id = k.id`,
      [keys.messageIds.map((k) => k.conversationId), keys.messageIds.map((k) => k.id)],
    )) {
      result.numbered.set(numberKey(row.conversation_id, row.id), toNumbered(row));
    }
  }
  if (keys.clients.length > 0) {
    for (const row of await all<{ doc_name: string; client_id: number; user_id: string }>(
      client,
      `SELECT c.doc_name, c.client_id, c.user_id
       FROM doc_clients c JOIN unnest($1::text[], $2::bigint[]) AS k (doc_name, client_id) ON c.doc_name = k.doc_name AND c.client_id = k.client_id`,
      [keys.clients.map((k) => k.doc), keys.clients.map((k) => k.clientId)],
    )) {
      result.owners.set(`${row.doc_name}/${row.client_id}`, row.user_id as UserId);
    }
    for (const row of await all<{ doc_name: string; user_id: string; n: number }>(
      client,
      `SELECT c.doc_name, c.user_id, count(*)::int AS n
       FROM doc_clients c JOIN unnest($1::text[], $2::text[]) AS k (doc_name, user_id) ON c.doc_name = k.doc_name AND c.user_id = k.user_id
       WHERE c.claimed_at > $3 GROUP BY c.doc_name, c.user_id`,
      [keys.claimants.map((k) => k.doc), keys.claimants.map((k) => k.userId), now - CLAIM_WINDOW_MS],
    )) {
      result.recentClaims.set(`${row.doc_name}/${row.user_id}`, row.n);
    }
  }
  if (keys.files.length > 0) {
    // Locked (in id order), so a clean-up of unattached files cannot delete one between this
    // read and the update that attaches it.
    for (const row of await all<FileRow>(
      client,
      `SELECT id, conversation_id, uploader, name, type, size, width, height, placeholder, message_id
       FROM files WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C" FOR UPDATE`,
      [keys.files],
    )) {
      result.files.set(row.id, {
        conversationId: row.conversation_id as ConversationId,
        uploader: row.uploader as UserId,
        messageId: row.message_id as MessageId | null,
        entry: toAttachment(row),
      });
    }
  }
  return result;
}

async function write(client: Queryable, rows: CommitRows): Promise<void> {
  if (rows.entries.length > 0) {
    await client.query(
      'INSERT INTO doc_log (doc_name, version, "update") SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])',
      [rows.entries.map((e) => e.doc), rows.entries.map((e) => e.version), rows.entries.map((e) => asBuffer(e.update))],
    );
    await client.query(
      'UPDATE doc_heads AS h SET version = k.version FROM unnest($1::text[], $2::bigint[]) AS k (doc_name, version) WHERE h.doc_name = k.doc_name',
      [rows.heads.map((h) => h.doc), rows.heads.map((h) => h.version)],
    );
  }
  if (rows.messages.length > 0) {
    const m = rows.messages;
    await client.query(
      `INSERT INTO messages (conversation_id, id, seq, segment, author, created_at, received_at, body, reply_to)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])`,
      [
        m.map((x) => x.conversationId),
        m.map((x) => x.id),
        m.map((x) => x.seq),
        m.map((x) => x.segment),
        m.map((x) => x.author),
        m.map((x) => x.createdAt),
        m.map((x) => x.receivedAt),
        m.map((x) => x.body),
        m.map((x) => x.replyTo),
      ],
    );
  }
  if (rows.conversations.length > 0) {
    const c = rows.conversations;
    await client.query(
      `UPDATE conversations AS c SET last_seq = k.last_seq, head = k.head, head_count = k.head_count
       FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[]) AS k (id, last_seq, head, head_count) WHERE c.id = k.id`,
      [c.map((x) => x.id), c.map((x) => x.lastSeq), c.map((x) => x.head), c.map((x) => x.headCount)],
    );
  }
  if (rows.reads.length > 0) {
    // One row per (conversation, user): the highest of the batch, then never lower than stored.
    const best = new Map<string, { conversationId: string; userId: string; seq: number }>();
    for (const read of rows.reads) {
      const key = `${read.conversationId}/${read.userId}`;
      if ((best.get(key)?.seq ?? -1) < read.seq) best.set(key, read);
    }
    const r = [...best.values()];
    await client.query(
      `INSERT INTO read_positions (conversation_id, user_id, seq) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = GREATEST(read_positions.seq, EXCLUDED.seq)`,
      [r.map((x) => x.conversationId), r.map((x) => x.userId), r.map((x) => x.seq)],
    );
  }
  if (rows.attachments.length > 0) {
    const a = rows.attachments;
    await client.query('UPDATE files AS f SET message_id = k.message_id FROM unnest($1::text[], $2::text[]) AS k (id, message_id) WHERE f.id = k.id', [
      a.map((x) => x.fileId),
      a.map((x) => x.messageId),
    ]);
  }
  if (rows.claims.length > 0) {
    const c = rows.claims;
    await client.query(
      'INSERT INTO doc_clients (doc_name, client_id, user_id, claimed_at) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])',
      [c.map((x) => x.doc), c.map((x) => x.clientId), c.map((x) => x.userId), c.map((x) => x.at)],
    );
  }
}
