// The seam between the in-memory documents and where they persist. Today: memory only. The
// IndexedDB replica plugs in here by implementing `ReplicaPersistence`.
import * as Y from 'yjs';

/** Where a replica keeps document state between runs. */
export interface ReplicaPersistence {
  /** Everything stored for the document, as updates to apply in order. */
  load(docName: string): Promise<Uint8Array[]>;
  /** Called for every change to the document (local or remote), in order. */
  append(docName: string, update: Uint8Array): Promise<void>;
  clear(): Promise<void>;
}

/** Keeps nothing: a replica that lives as long as the process. */
export const memoryOnly: ReplicaPersistence = {
  load: async () => [],
  append: async () => {},
  clear: async () => {},
};

/** One Y.Doc per document name, loaded once from persistence and kept in step with it. */
export class DocStore {
  readonly #persistence: ReplicaPersistence;
  readonly #docs = new Map<string, Y.Doc>();
  readonly #loading = new Map<string, Promise<Y.Doc>>();

  constructor(persistence: ReplicaPersistence) {
    this.#persistence = persistence;
  }

  /** The document if it is in memory already. */
  peek(name: string): Y.Doc | undefined {
    return this.#docs.get(name);
  }

  /** Returns the document, in memory at once; persisted state is applied as it loads. */
  open(name: string): Y.Doc {
    const existing = this.#docs.get(name);
    if (existing) return existing;
    const doc = new Y.Doc({ gc: true });
    this.#docs.set(name, doc);
    this.#loading.set(
      name,
      this.#persistence.load(name).then((updates) => {
        Y.transact(doc, () => updates.forEach((u) => Y.applyUpdate(doc, u)), PERSISTENCE_ORIGIN);
        doc.on('update', (update: Uint8Array, origin: unknown) => {
          if (origin !== PERSISTENCE_ORIGIN) void this.#persistence.append(name, update);
        });
        return doc;
      }),
    );
    return doc;
  }

  /** Resolves when the document's persisted state is applied. */
  loaded(name: string): Promise<Y.Doc> {
    return this.#loading.get(name) ?? Promise.resolve(this.open(name));
  }

  names(): string[] {
    return [...this.#docs.keys()];
  }

  destroy(): void {
    for (const doc of this.#docs.values()) doc.destroy();
    this.#docs.clear();
    this.#loading.clear();
  }
}

const PERSISTENCE_ORIGIN = Symbol('persistence');
