// The node's copies of documents and where each stands in the shared log. A copy changes only
// by what the log holds: loaded from it, caught up from it, or by an entry this node has just
// committed to it. So validating against the copy is validating against the log.
import * as Y from 'yjs';
import type { UpdateLog } from '@outpost/storage';
import type { Logger } from '../log.ts';

/** The transaction origin of everything the node applies: Hocuspocus broadcasts it, and runs no store hooks. */
export const LOG_ORIGIN = { source: 'local', skipStoreHooks: true } as const;

interface CopyState {
  /** The last log version this copy includes. */
  version: number;
}

export class LoadedDocuments {
  readonly #log: UpdateLog;
  readonly #logger: Logger;
  readonly #states = new WeakMap<Y.Doc, CopyState>();
  /** The latest version another node announced per document (only ever grows). */
  readonly #announced = new Map<string, number>();

  constructor(log: UpdateLog, logger: Logger) {
    this.#log = log;
    this.#logger = logger;
  }

  /** Fills a fresh copy from the log: its base and entries, in one transaction. */
  async load(name: string, doc: Y.Doc): Promise<void> {
    const stored = await this.#log.load(name);
    Y.transact(
      doc,
      () => {
        if (stored.base) Y.applyUpdate(doc, stored.base, LOG_ORIGIN);
        for (const entry of stored.entries) Y.applyUpdate(doc, entry.update, LOG_ORIGIN);
      },
      LOG_ORIGIN,
    );
    this.#dropPending(name, doc);
    // A notice or server write may have brought the copy further while it waited to load.
    this.#states.set(doc, { version: Math.max(this.version(doc), stored.version) });
  }

  /** The log version the copy includes (0 for a copy never loaded). */
  version(doc: Y.Doc): number {
    return this.#states.get(doc)?.version ?? 0;
  }

  /** Applies an entry this node committed at `version`. */
  applyCommitted(name: string, doc: Y.Doc, update: Uint8Array, version: number): void {
    const state = this.#states.get(doc);
    if (state && version !== state.version + 1) throw new Error(`invariant failed: ${name} at version ${state.version} got entry ${version}`);
    Y.applyUpdate(doc, update, LOG_ORIGIN);
    this.#states.set(doc, { version });
    if (this.#dropPending(name, doc)) throw new Error(`invariant failed: a committed entry of ${name} left structs pending`);
  }

  /** Another node appended up to `version` (a notice): the next catch-up asks the log. */
  announce(name: string, version: number): void {
    if (version > (this.#announced.get(name) ?? 0)) this.#announced.set(name, version);
  }

  /** True when the log is known to be ahead of the copy. */
  behind(name: string, doc: Y.Doc): boolean {
    return (this.#announced.get(name) ?? 0) > this.version(doc);
  }

  /**
   * Brings the copy up to the log: the entries after its version, in one query (or the whole
   * document again when they were compacted away). Without `force`, only when a notice said so.
   */
  async catchUp(name: string, doc: Y.Doc, force = false): Promise<void> {
    if (!force && !this.behind(name, doc)) return;
    const version = this.version(doc);
    const entries = await this.#log.after(name, version);
    if (entries === null) {
      const stored = await this.#log.load(name);
      Y.transact(
        doc,
        () => {
          if (stored.base) Y.applyUpdate(doc, stored.base, LOG_ORIGIN);
          for (const entry of stored.entries) Y.applyUpdate(doc, entry.update, LOG_ORIGIN);
        },
        LOG_ORIGIN,
      );
      this.#states.set(doc, { version: Math.max(version, stored.version) });
    } else if (entries.length > 0) {
      Y.transact(
        doc,
        () => {
          for (const entry of entries) Y.applyUpdate(doc, entry.update, LOG_ORIGIN);
        },
        LOG_ORIGIN,
      );
      this.#states.set(doc, { version: (entries.at(-1) as { version: number }).version });
    }
    this.#dropPending(name, doc);
  }

  /**
   * Structs the log holds that cannot integrate (only logs written before the write path judged
   * by effect could hold them) must never integrate later unjudged: they are dropped.
   */
  #dropPending(name: string, doc: Y.Doc): boolean {
    if (doc.store.pendingStructs === null && doc.store.pendingDs === null) return false;
    this.#logger.warn('dropped log content that cannot integrate', { document: name });
    doc.store.pendingStructs = null;
    doc.store.pendingDs = null;
    return true;
  }
}
