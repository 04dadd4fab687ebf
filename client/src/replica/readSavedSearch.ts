// Reads the saved search index from the replica's database with plain IndexedDB, so that the
// search worker can read it itself (same origin) instead of the main thread deserialising the
// copy and handing it over; the replica reads it through the same function on its own thread.
import type { SavedSearch, SearchEntry, SearchText } from '../search/SearchStore.ts';
import type { SearchIndexRow, SearchJournalRow } from './ReplicaDatabase.ts';

/** The saved copy, the journal batches after it, and the text of the journal's entries, in one read transaction. */
export function readSavedSearch(db: IDBDatabase): Promise<SavedSearch> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(['searchIndex', 'searchJournal', 'searchText'], 'readonly');
    let snapshot: SearchIndexRow | null = null;
    let journal: SearchJournalRow[] = [];
    const texts = new Map<string, SearchText>();
    const indexRequest = tx.objectStore('searchIndex').get('index');
    indexRequest.onsuccess = () => {
      snapshot = (indexRequest.result as SearchIndexRow | undefined) ?? null;
      const upTo = snapshot?.upTo ?? 0;
      const journalRequest = tx.objectStore('searchJournal').getAll();
      journalRequest.onsuccess = () => {
        // A few hundred batches at most (a snapshot replaces them): filtered here, not by key range.
        journal = (journalRequest.result as SearchJournalRow[]).filter((row) => (row.id as number) > upTo);
        // The journal's entries are indexed again on load: they need their words.
        const textStore = tx.objectStore('searchText');
        for (const id of new Set(journal.flatMap((row) => row.put.map((entry) => entry.id)))) {
          const textRequest = textStore.get(id);
          textRequest.onsuccess = () => {
            if (textRequest.result) texts.set(id, textRequest.result as SearchText);
          };
        }
      };
    };
    tx.onabort = () => reject(tx.error ?? new Error('reading the saved search index was aborted'));
    tx.oncomplete = () =>
      resolve({
        snapshot: snapshot ? { index: snapshot.index, covered: snapshot.covered, upTo: snapshot.upTo } : null,
        journal: journal.map((row) => ({
          id: row.id as number,
          put: row.put.flatMap((entry): SearchEntry[] => {
            const text = texts.get(entry.id);
            return text ? [{ ...text, ...entry }] : [];
          }),
          remove: row.remove,
          covered: row.covered,
        })),
      });
  });
}

/**
 * Opens an existing database at exactly `version` for reading, never creating or upgrading it
 * (the replica's own connection does that); fails if it is missing or at another version.
 */
export function openExistingDatabase(factory: IDBFactory, name: string, version: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name);
    request.onupgradeneeded = () => request.transaction?.abort();
    request.onsuccess = () => {
      const db = request.result;
      if (db.version === version) {
        // Another tab upgrading or deleting the replica must not wait for this reader.
        db.onversionchange = () => db.close();
        resolve(db);
        return;
      }
      db.close();
      reject(new Error(`the replica ${name} is at version ${db.version}, not ${version}`));
    };
    request.onerror = (event) => {
      event.preventDefault();
      reject(request.error ?? new Error(`cannot open the replica ${name}`));
    };
  });
}
