// How a document's log is compacted: when, and what the new base holds.
import * as Y from 'yjs';

/** Log entries after the base that trigger a compaction. */
export const COMPACT_AFTER = 200;

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
