// Baseline 3: what the disk allows. The Yjs updates a client sends for 100-character messages,
// inserted with better-sqlite3 into a WAL database with synchronous=FULL, as Outpost's SQLite
// storage opens it: in batches (a group commit), and one transaction per message.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as Y from 'yjs';
import { writeMessage, type MessageId, type UserId } from '@outpost/shared-schema';

export interface SqliteInsertResult {
  updateBytes: number;
  /** Rows a second for each batch size (rows per transaction), smallest first. */
  rates: { batchSize: number; perSecond: number }[];
}

/** One row per transaction, a small group commit, a large one. */
export const BATCH_SIZES = [1, 10, 100] as const;

const BODY = 'Gate 4 at the north yard is locked again; who has the key? The shift starts at six, bring the radios. '.slice(0, 100);

/** `count` distinct updates, each one message written into a segment as the SDK writes it. */
function messageUpdates(count: number): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const author = crypto.randomUUID() as UserId;
  for (let i = 0; i < count; i++) writeMessage(doc, crypto.randomUUID() as MessageId, { author, createdAt: Date.now(), body: BODY });
  return updates;
}

/** Inserts for `durationMs` at each batch size; returns rows a second. */
export function measureSqliteInsert(durationMs: number): SqliteInsertResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'outpost-bench-sqlite-'));
  const db = new Database(path.join(dir, 'insert.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE updates (position INTEGER PRIMARY KEY AUTOINCREMENT, doc_name TEXT NOT NULL, data BLOB NOT NULL) STRICT');
    const insert = db.prepare('INSERT INTO updates (doc_name, data) VALUES (?, ?)');
    const updates = messageUpdates(1_000);
    const docName = `conv:${crypto.randomUUID()}:0`;
    const insertBatch = db.transaction((batch: Uint8Array[]) => {
      for (const update of batch) insert.run(docName, update);
    });
    const rate = (rowsPerTransaction: number) => {
      let rows = 0;
      const started = performance.now();
      while (performance.now() - started < durationMs) {
        const batch = Array.from({ length: rowsPerTransaction }, (_, i) => updates[(rows + i) % updates.length] as Uint8Array);
        insertBatch(batch);
        rows += rowsPerTransaction;
      }
      return (rows * 1000) / (performance.now() - started);
    };
    return {
      updateBytes: updates.reduce((sum, u) => sum + u.byteLength, 0) / updates.length,
      rates: BATCH_SIZES.map((batchSize) => ({ batchSize, perSecond: rate(batchSize) })),
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
