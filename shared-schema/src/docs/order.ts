// A segment's companion `conv:<id>:<n>:order`, written only by the server: the canonical
// sequence number of each message in segment n. A number here is the acknowledgement.
import * as Y from 'yjs';
import type { MessageId } from '../names.ts';

export interface SeqEntry {
  seq: number;
  /** Server receive time (ms since epoch). */
  at: number;
}

export const OrderRoots = { seq: 'seq' } as const;

export function seqMap(doc: Y.Doc): Y.Map<SeqEntry> {
  return doc.getMap<SeqEntry>(OrderRoots.seq);
}

/** Writes the number unless the same one is there: re-writing would only add history. */
export function writeSeq(doc: Y.Doc, id: MessageId, entry: SeqEntry): boolean {
  const map = seqMap(doc);
  const current = map.get(id);
  if (current && current.seq === entry.seq) return false;
  map.set(id, entry);
  return true;
}
