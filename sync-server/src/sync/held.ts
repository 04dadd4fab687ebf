// Updates that cannot integrate yet because something they build on has not arrived (a device
// reconnects and its provider sends a new change before the sync step that carries the change
// it depends on; or another tab's socket is slower), or that edit, delete or react to a message
// that has not arrived yet. They wait here, bounded, neither applied nor logged, and are judged
// like any other update once they can integrate.
import type * as Y from 'yjs';
import { retryLater } from './refusals.ts';

export interface HeldUpdate<Sender> {
  update: Uint8Array;
  sender: Sender;
  /** Who to answer (acknowledge once applied, or refuse). */
  connection: object;
  /** Update frames are acknowledged by us; sync step 2 by Hocuspocus, or by us once released. */
  at: number;
}

export const HeldLimits = {
  /** Updates one connection may have waiting in one document. */
  perConnection: 32,
  /** Bytes waiting in one document. */
  bytesPerDocument: 4 * 1024 * 1024,
  /** How long an update may wait for what it builds on. */
  maxAgeMs: 30_000,
} as const;

export class HeldUpdates<Sender> {
  readonly #byDoc = new Map<Y.Doc, HeldUpdate<Sender>[]>();

  /** Holds an update; refuses (retry) when the document or the connection holds too much. */
  hold(doc: Y.Doc, held: HeldUpdate<Sender>): void {
    const list = this.#byDoc.get(doc) ?? [];
    const bytes = list.reduce((sum, h) => sum + h.update.byteLength, held.update.byteLength);
    const mine = list.filter((h) => h.connection === held.connection).length;
    if (bytes > HeldLimits.bytesPerDocument || mine >= HeldLimits.perConnection) {
      throw retryLater('internal', 'too many changes wait for changes they build on; the document will be synced again', 1_000);
    }
    list.push(held);
    this.#byDoc.set(doc, list);
  }

  /** Everything waiting in `doc`, removed (the caller holds back what still cannot integrate). */
  take(doc: Y.Doc): HeldUpdate<Sender>[] {
    const list = this.#byDoc.get(doc) ?? [];
    this.#byDoc.delete(doc);
    return list;
  }

  has(doc: Y.Doc): boolean {
    return (this.#byDoc.get(doc)?.length ?? 0) > 0;
  }

  /** Forgets what a closed connection was waiting for. */
  dropWhere(match: (held: HeldUpdate<Sender>) => boolean): void {
    for (const [doc, list] of this.#byDoc) {
      const kept = list.filter((h) => !match(h));
      if (kept.length === 0) this.#byDoc.delete(doc);
      else this.#byDoc.set(doc, kept);
    }
  }

  /** Removes and returns what has waited longer than allowed. */
  expired(now: number): HeldUpdate<Sender>[] {
    const out: HeldUpdate<Sender>[] = [];
    for (const [doc, list] of this.#byDoc) {
      const kept = list.filter((h) => now - h.at <= HeldLimits.maxAgeMs);
      out.push(...list.filter((h) => now - h.at > HeldLimits.maxAgeMs));
      if (kept.length === 0) this.#byDoc.delete(doc);
      else this.#byDoc.set(doc, kept);
    }
    return out;
  }
}
