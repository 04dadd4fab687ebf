// The search index in a Web Worker: the main thread sends it operations in order and awaits the
// replies of those that answer. A cold start's saved index loads there, beside the documents.
import type { PackedIndex } from './packedIndex.ts';
import type { IndexHit, IndexQuery, LoadedIndex, SearchIndex } from './SearchIndex.ts';
import type { SearchIndexReply, SearchIndexRequest } from './searchIndexProtocol.ts';
import type { SearchEntry, SearchStore } from './SearchStore.ts';

/** What WorkerSearchIndex needs of a Worker (a MessagePort in tests). */
export interface SearchWorker {
  postMessage(message: unknown): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: { data?: unknown }) => void): void;
  terminate?(): void;
}

export class WorkerSearchIndex implements SearchIndex {
  readonly #worker: SearchWorker;
  readonly #pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  readonly #onFailure: (error: Error) => void;
  #nextId = 1;
  #size = 0;
  #failed: Error | undefined;

  /** `onFailure` is called once if the worker cannot start or stops answering (its requests reject). */
  constructor(worker: SearchWorker, onFailure: (error: Error) => void) {
    this.#worker = worker;
    this.#onFailure = onFailure;
    worker.addEventListener('message', (event) => this.#receive(event.data as SearchIndexReply));
    worker.addEventListener('error', (event) => this.#fail(new Error(`the search worker failed: ${describe(event)}`)));
    worker.addEventListener('messageerror', () => this.#fail(new Error('a reply of the search worker could not be read')));
  }

  get size(): number {
    return this.#size;
  }

  async load(store: SearchStore): Promise<LoadedIndex> {
    if (store.savedIn) {
      try {
        return (await this.#request({ op: 'load', from: store.savedIn })) as LoadedIndex;
      } catch (error) {
        if (this.#failed) throw error;
        // The worker could not read the database itself: it gets the saved index from here.
        console.warn('outpost search: the search worker cannot read the saved index itself; it is handed over', error);
      }
    }
    return (await this.#request({ op: 'load', from: { saved: await store.loadSearch() } })) as LoadedIndex;
  }

  update(put: SearchEntry[], remove: string[]): void {
    // An update the worker could not apply leaves its index behind: the caller rebuilds without it.
    this.#request({ op: 'update', put, remove }).catch((error: unknown) => this.#fail(error instanceof Error ? error : new Error(String(error))));
  }

  async vacuum(): Promise<void> {
    await this.#request({ op: 'vacuum' });
  }

  async search(query: string, options: IndexQuery): Promise<IndexHit[]> {
    return (await this.#request({ op: 'search', query, options })) as IndexHit[];
  }

  async serialize(): Promise<PackedIndex> {
    return (await this.#request({ op: 'serialize' })) as PackedIndex;
  }

  close(): void {
    this.#worker.terminate?.();
    this.#fail(new Error('the search index is closed'), false);
  }

  #request(request: SearchIndexRequest): Promise<unknown> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#worker.postMessage({ id, request });
      } catch (error) {
        this.#pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  #receive(reply: SearchIndexReply): void {
    const waiting = this.#pending.get(reply.id);
    if (!waiting) return;
    this.#pending.delete(reply.id);
    this.#size = reply.size;
    if ('error' in reply) waiting.reject(new Error(`search worker: ${reply.error}`));
    else waiting.resolve(reply.result);
  }

  #fail(error: Error, report = true): void {
    if (this.#failed) return;
    this.#failed = error;
    for (const waiting of this.#pending.values()) waiting.reject(error);
    this.#pending.clear();
    if (report) this.#onFailure(error);
  }
}

function describe(event: { data?: unknown }): string {
  const message = (event as { message?: unknown }).message;
  return typeof message === 'string' && message !== '' ? message : 'it did not start or stopped';
}
