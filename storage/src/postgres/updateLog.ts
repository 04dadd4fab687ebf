// The update log and its snapshots on Postgres. Positions come from a sequence, which hands
// them out before commit: without care, a compaction could trim past an entry that was still
// being written and lose it. The advisory locks below are that care.
import type pg from 'pg';
import { asBuffer, toBytes } from '../rows.ts';
import type { StoredDocument } from '../Storage.ts';
import { all, count, one } from './query.ts';
import { transaction, withClient } from './transaction.ts';

/**
 * Advisory lock namespaces (the first key of the two-key form; the second is hashtext(doc)).
 * Appends hold APPEND shared while they take a log position and commit; compaction takes it
 * exclusively for an instant, so every position it then sees below the maximum is committed.
 * Two compactions of one document serialise on COMPACT.
 */
const Locks = { append: 0x6f75_0002, compact: 0x6f75_0003 } as const;

/**
 * Appends one log entry ($1 doc name, $2 bytes). The shared APPEND lock is held from before the
 * position is drawn until COMMIT. Exported for the test that holds an append open.
 */
export const APPEND_UPDATE_SQL = `
  WITH barrier AS (SELECT pg_advisory_xact_lock_shared(${Locks.append}, hashtext($1)))
  INSERT INTO doc_updates (doc_name, "update") SELECT $1, $2::bytea FROM barrier
  RETURNING position`;

/** Durably appends one update to the document's log; returns its position. */
export async function appendUpdate(pool: pg.Pool, docName: string, update: Uint8Array): Promise<number> {
  const row = await one<{ position: number }>(pool, APPEND_UPDATE_SQL, [docName, asBuffer(update)]);
  if (!row) throw new Error('append to the update log returned no position');
  return row.position;
}

/** The snapshot and the log entries after it, read in one statement. */
export async function loadDocument(pool: pg.Pool, docName: string): Promise<StoredDocument> {
  // One statement, so snapshot and entries come from one snapshot of the database even
  // while another node compacts.
  const rows = await all<{ is_snapshot: boolean; position: number; bytes: Buffer }>(
    pool,
    `SELECT true AS is_snapshot, position, snapshot AS bytes FROM doc_snapshots WHERE doc_name = $1
     UNION ALL
     SELECT false, position, "update" FROM doc_updates
     WHERE doc_name = $1 AND position > coalesce((SELECT position FROM doc_snapshots WHERE doc_name = $1), 0)
     ORDER BY is_snapshot DESC, position`,
    [docName],
  );
  const snapshot = rows[0]?.is_snapshot ? rows[0] : undefined;
  const updates = snapshot ? rows.slice(1) : rows;
  return {
    snapshot: snapshot ? toBytes(snapshot.bytes) : null,
    updates: updates.map((row) => toBytes(row.bytes)),
    position: updates.at(-1)?.position ?? snapshot?.position ?? 0,
  };
}

/** Number of log entries after the snapshot. */
export async function countUpdates(pool: pg.Pool, docName: string): Promise<number> {
  return count(
    pool,
    `SELECT count(*) AS n FROM doc_updates
     WHERE doc_name = $1 AND position > coalesce((SELECT position FROM doc_snapshots WHERE doc_name = $1), 0)`,
    [docName],
  );
}

/** Merges snapshot + committed entries into a new snapshot and trims them; see Locks. */
export async function compact(pool: pg.Pool, docName: string, merge: (parts: Uint8Array[]) => Uint8Array): Promise<void> {
  await withClient(pool, async (client) => {
    // Positions are drawn before commit, so a committed entry may sit above one still in
    // flight. Taking APPEND exclusively waits out every append in flight; below the maximum
    // seen then, nothing can appear later. Appends resume as soon as this commits.
    const upTo = await transaction(client, async () => {
      await client.query(`SELECT pg_advisory_xact_lock(${Locks.append}, hashtext($1))`, [docName]);
      return count(client, 'SELECT coalesce(max(position), 0) AS n FROM doc_updates WHERE doc_name = $1', [docName]);
    });
    await transaction(client, async () => {
      await client.query(`SELECT pg_advisory_xact_lock(${Locks.compact}, hashtext($1))`, [docName]);
      const snapshot = await one<{ snapshot: Buffer; position: number }>(
        client,
        'SELECT snapshot, position FROM doc_snapshots WHERE doc_name = $1',
        [docName],
      );
      const entries = await all<{ position: number; update: Buffer }>(
        client,
        `SELECT position, "update" FROM doc_updates
         WHERE doc_name = $1 AND position > $2 AND position <= $3 ORDER BY position`,
        [docName, snapshot?.position ?? 0, upTo],
      );
      const last = entries.at(-1);
      if (!last) return; // another compaction already took everything up to `upTo`
      const updates = entries.map((entry) => toBytes(entry.update));
      const merged = merge(snapshot ? [toBytes(snapshot.snapshot), ...updates] : updates);
      await client.query(
        `INSERT INTO doc_snapshots (doc_name, snapshot, position) VALUES ($1, $2, $3)
         ON CONFLICT (doc_name) DO UPDATE SET snapshot = EXCLUDED.snapshot, position = EXCLUDED.position`,
        [docName, asBuffer(merged), last.position],
      );
      await client.query('DELETE FROM doc_updates WHERE doc_name = $1 AND position <= $2', [docName, last.position]);
    });
  });
}
