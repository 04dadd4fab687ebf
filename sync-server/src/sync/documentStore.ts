// Loads documents from the update log and keeps server-made changes in it. Client updates are
// logged earlier, on the write path, before they are applied; compaction runs in storage.
import * as Y from 'yjs';
import type { Extension, onChangePayload, onLoadDocumentPayload } from '@hocuspocus/server';
import type { Storage } from '@outpost/storage';
import type { Logger } from '../log.ts';

/** Log entries after the snapshot that trigger a compaction. */
const COMPACT_AFTER = 200;

/** The transaction origin of every server-made change: Hocuspocus broadcasts it, we log it. */
export const SERVER_ORIGIN = { source: 'local' } as const;

export function isLocalOrigin(origin: unknown): boolean {
  return typeof origin === 'object' && origin !== null && (origin as { source?: unknown }).source === 'local';
}

export class DocumentStore implements Extension {
  extensionName = 'OutpostDocumentStore';
  readonly #storage: Storage;
  readonly #log: Logger;
  /** Per document: the tail of its append chain (keeps server writes in order) and entries since compaction. */
  readonly #appends = new Map<string, Promise<void>>();
  readonly #sinceCompaction = new Map<string, number>();
  readonly #compacting = new Set<string>();
  /** Loads and compactions under way, awaited by `flush()`. */
  readonly #work = new Set<Promise<unknown>>();

  constructor(storage: Storage, log: Logger) {
    this.#storage = storage;
    this.#log = log;
  }

  onLoadDocument(payload: onLoadDocumentPayload): Promise<void> {
    return this.#tracked(this.#load(payload));
  }

  #tracked<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    void work.finally(() => this.#work.delete(work)).catch(() => undefined);
    return work;
  }

  async #load({ documentName, document }: onLoadDocumentPayload): Promise<void> {
    const stored = await this.#storage.loadDocument(documentName);
    Y.transact(document, () => {
      // One bad entry must not take the whole conversation down: it is skipped and reported.
      for (const [i, update] of [stored.snapshot, ...stored.updates].entries()) {
        if (!update) continue;
        try {
          Y.applyUpdate(document, update);
        } catch (error) {
          this.#log.error('skipped an update log entry that does not apply', { documentName, entry: i, error });
        }
      }
    });
    this.#sinceCompaction.set(documentName, stored.updates.length);
    if (stored.updates.length >= COMPACT_AFTER) this.#compactSoon(documentName);
  }

  /** Server-made changes (sequence numbers, receipts, inboxes) go to the log in order. */
  async onChange({ documentName, update, transactionOrigin }: onChangePayload): Promise<void> {
    if (!isLocalOrigin(transactionOrigin)) return;
    const previous = this.#appends.get(documentName) ?? Promise.resolve();
    const next = previous
      .then(() => this.logged(documentName, update))
      .catch((error: unknown) => this.#log.error('could not log a server write; it is rebuilt on next load', { documentName, error }));
    this.#appends.set(documentName, next);
    await next;
    if (this.#appends.get(documentName) === next) this.#appends.delete(documentName);
  }

  /** Appends one update durably, and compacts the document when its log has grown. */
  async logged(documentName: string, update: Uint8Array): Promise<void> {
    await this.#storage.appendUpdate(documentName, update);
    const count = (this.#sinceCompaction.get(documentName) ?? 0) + 1;
    this.#sinceCompaction.set(documentName, count);
    if (count >= COMPACT_AFTER) this.#compactSoon(documentName);
  }

  /** Resolves when every server write so far is logged and no load or compaction runs. */
  async flush(): Promise<void> {
    while (this.#appends.size > 0 || this.#work.size > 0) {
      await Promise.allSettled([...this.#appends.values(), ...this.#work]);
    }
  }

  async afterUnloadDocument({ documentName }: { documentName: string }): Promise<void> {
    await this.#appends.get(documentName);
    this.#sinceCompaction.delete(documentName);
  }

  #compactSoon(documentName: string): void {
    if (this.#compacting.has(documentName)) return;
    this.#compacting.add(documentName);
    this.#sinceCompaction.set(documentName, 0);
    this.#tracked(
      this.#storage
        .compact(documentName, (parts) => Y.mergeUpdates(parts))
        .catch((error: unknown) => this.#log.error('compaction failed; the log is intact', { documentName, error }))
        .finally(() => this.#compacting.delete(documentName)),
    );
  }
}
