// How a document's log is compacted: when, and what the new base holds.
import * as Y from 'yjs';

/** Log entries after the base that trigger a compaction. */
export const COMPACT_AFTER = 200;

/**
 * True when the entry committed at `version` is the one that compacts `documentName`'s log: every
 * COMPACT_AFTER entries, at a phase of its own (from its name). Conversations that move at the
 * same pace would otherwise all compact at the same moment, every COMPACT_AFTER messages: the
 * bench saw twenty compactions at once take the cores and the database's write lock from the
 * commits for over 100 ms.
 */
export function compactsAt(documentName: string, version: number): boolean {
  let hash = 0;
  for (let i = 0; i < documentName.length; i++) hash = (Math.imul(hash, 31) + documentName.charCodeAt(i)) >>> 0;
  return version > 0 && version % COMPACT_AFTER === hash % COMPACT_AFTER;
}

/**
 * Merges a base and log entries into one update with deleted content garbage-collected, so a
 * deleted message's text leaves the base too (Yjs keeps only the length of what was deleted).
 */
export function mergeCollected(parts: Uint8Array[]): Uint8Array {
  const doc = new Y.Doc({ gc: true });
  Y.transact(doc, () => {
    for (const part of parts) Y.applyUpdate(doc, part);
  });
  // Anything that cannot integrate was never applied anywhere; it does not survive compaction.
  doc.store.pendingStructs = null;
  doc.store.pendingDs = null;
  return Y.encodeStateAsUpdate(doc);
}
