// Closing a document: what it holds is stored first, what listened to it stops, and a document
// opened again while it closes stays open (someone holds it). Loading: what the replica holds is
// applied once and not handed back as a change, and loads can wait while other work runs.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
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

describe('DocStore.open', () => {
  it('names a document by its name: no random UUID is drawn for it (a cold start opens one per segment)', () => {
    const docs = new DocStore(memoryOnly);
    expect(docs.open('conv:c1:seg:0').guid).toBe('conv:c1:seg:0');
  });
});

describe('DocStore loading', () => {
  it('applies what the replica holds without storing it again or reporting it as a change, and stores what follows', async () => {
    const persistence = slowMemory();
    const earlier = new Y.Doc();
    earlier.getMap('m').set('k', 'from an earlier run');
    persistence.stored.set('a', [Y.encodeStateAsUpdate(earlier)]);
    const docs = new DocStore(persistence);
    const changes: string[] = [];
    docs.onChange((name) => changes.push(name));
    const doc = docs.open('a');
    await docs.loaded('a');
    expect(doc.getMap('m').get('k')).toBe('from an earlier run');
    expect(changes).toEqual([]);
    expect(persistence.stored.get('a')).toHaveLength(1);
    doc.getMap('m').set('k', 'written now');
    await docs.flushed();
    expect(changes).toEqual(['a']);
    expect(persistence.stored.get('a')).toHaveLength(2);
  });

  it('holds loads not started yet until the given work is done', async () => {
    const docs = new DocStore(slowMemory());
    let release: () => void = () => {};
    docs.holdLoads(new Promise<void>((resolve) => (release = resolve)));
    let loaded = false;
    docs.open('a');
    void docs.loaded('a').then(() => (loaded = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(loaded).toBe(false);
    release();
    await docs.loaded('a');
    expect(loaded).toBe(true);
  });
});
