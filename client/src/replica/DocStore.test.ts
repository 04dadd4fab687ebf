// Closing a document: what it holds is stored first, what listened to it stops, and a document
// opened again while it closes stays open (someone holds it).
import { describe, expect, it } from 'vitest';
import { DocStore, memoryOnly, type ReplicaPersistence } from './DocStore.ts';

/** A persistence in memory whose writes take a few milliseconds (as IndexedDB's do). */
function slowMemory(): ReplicaPersistence & { stored: Map<string, Uint8Array[]> } {
  const stored = new Map<string, Uint8Array[]>();
  return {
    ...memoryOnly,
    stored,
    load: async (name) => [...(stored.get(name) ?? [])],
    append: async (name, update) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      stored.set(name, [...(stored.get(name) ?? []), update]);
    },
  };
}

describe('DocStore.close', () => {
  it('stores the changes first, undoes what listened, and the next open loads it again', async () => {
    const persistence = slowMemory();
    const docs = new DocStore(persistence);
    let watching = 0;
    docs.onOpen(() => {
      watching += 1;
      return () => (watching -= 1);
    });
    const doc = docs.open('a');
    await docs.loaded('a');
    doc.getMap('m').set('k', 'written just before closing');
    expect(watching).toBe(1);
    await docs.close('a');
    expect(watching).toBe(0);
    expect(docs.names()).toEqual([]);
    expect(doc.isDestroyed).toBe(true);
    const again = docs.open('a');
    expect(again).not.toBe(doc);
    await docs.loaded('a');
    expect(again.getMap('m').get('k')).toBe('written just before closing');
    expect(watching).toBe(1);
  });

  it('keeps a document opened again while it closes', async () => {
    const docs = new DocStore(slowMemory());
    const doc = docs.open('a');
    await docs.loaded('a');
    doc.getMap('m').set('k', 1);
    const closing = docs.close('a'); // waits for the write above
    expect(docs.open('a')).toBe(doc); // a deep link opens it meanwhile
    await closing;
    expect(doc.isDestroyed).toBe(false);
    expect(docs.peek('a')).toBe(doc);
    // Closing it later works as usual.
    await docs.close('a');
    expect(doc.isDestroyed).toBe(true);
    const reopened = docs.open('a');
    await docs.loaded('a');
    expect(reopened.getMap('m').get('k')).toBe(1);
  });
});
