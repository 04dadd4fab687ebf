// The contract for the update log: appends come back in order, and compaction (snapshot +
// trim) changes nothing a reader can see, even while other nodes append or compact.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { StoredDocument } from '../../Storage.ts';
import type { ContractContext } from './context.ts';

const DOC = 'conv:00000000-0000-4000-8000-000000000001:0';
const OTHER_DOC = 'conv:00000000-0000-4000-8000-000000000001:0:order';

/** `count` single-key writes by one client, each as the update Yjs would send. */
function edits(count: number, prefix: string): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  for (let index = 0; index < count; index++) doc.getMap('messages').set(`${prefix}${index}`, { body: `${prefix} ${index}` });
  return updates;
}

/** What a node that loads the stored document would show. */
function contents(stored: StoredDocument): unknown {
  const doc = new Y.Doc();
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
  for (const update of stored.updates) Y.applyUpdate(doc, update);
  return doc.getMap('messages').toJSON();
}

function merge(parts: Uint8Array[]): Uint8Array {
  return Y.mergeUpdates(parts);
}

export function updateLogContract(context: ContractContext): void {
  describe('update log', () => {
    it('returns an empty document for a name never written', async () => {
      const storage = context.storage();
      expect(await storage.loadDocument(DOC)).toEqual({ snapshot: null, updates: [], position: 0 });
      expect(await storage.countUpdates(DOC)).toBe(0);
    });

    it('loads appended updates in order, per document, with the last position', async () => {
      const storage = context.storage();
      const updates = edits(5, 'a');
      const positions: number[] = [];
      for (const [index, update] of updates.entries()) {
        positions.push(await storage.appendUpdate(DOC, update));
        if (index === 2) await storage.appendUpdate(OTHER_DOC, new Uint8Array([0, 0]));
      }
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(positions).size).toBe(5);
      const stored = await storage.loadDocument(DOC);
      expect(stored).toEqual({ snapshot: null, updates, position: positions.at(-1) });
      expect(await storage.countUpdates(DOC)).toBe(5);
      expect((await storage.loadDocument(OTHER_DOC)).updates).toEqual([new Uint8Array([0, 0])]);
    });

    it('compacts into a snapshot that shows the same document, then keeps appending after it', async () => {
      const storage = context.storage();
      for (const update of edits(20, 'a')) await storage.appendUpdate(DOC, update);
      const before = await storage.loadDocument(DOC);
      await storage.compact(DOC, merge);

      const after = await storage.loadDocument(DOC);
      expect(after.snapshot).not.toBeNull();
      expect(after.updates).toEqual([]);
      expect(after.position).toBe(before.position);
      expect(contents(after)).toEqual(contents(before));
      expect(await storage.countUpdates(DOC)).toBe(0);

      const later = edits(3, 'b');
      for (const update of later) await storage.appendUpdate(DOC, update);
      const withTail = await storage.loadDocument(DOC);
      expect(withTail.updates).toEqual(later);
      expect(withTail.position).toBeGreaterThan(before.position);
      expect(await storage.countUpdates(DOC)).toBe(3);

      await storage.compact(DOC, merge);
      const twice = await storage.loadDocument(DOC);
      expect(twice.updates).toEqual([]);
      expect(contents(twice)).toEqual(contents(withTail));
      expect(Object.keys(contents(twice) as object)).toHaveLength(23);
    });

    it('leaves a document with nothing to compact as it is', async () => {
      const storage = context.storage();
      let merges = 0;
      await storage.compact(DOC, (parts) => {
        merges += 1;
        return merge(parts);
      });
      expect(merges).toBe(0);
      expect(await storage.loadDocument(DOC)).toEqual({ snapshot: null, updates: [], position: 0 });
    });

    it('keeps an update appended by another node while compaction is merging', async () => {
      const storage = context.storage();
      const second = await context.second();
      for (const update of edits(10, 'a')) await storage.appendUpdate(DOC, update);
      const [late] = edits(1, 'late');
      let appended: Promise<number> | undefined;
      await storage.compact(DOC, (parts) => {
        // Start the append now; it completes whenever the backend lets it.
        appended ??= Promise.resolve().then(() => second.appendUpdate(DOC, late!));
        return merge(parts);
      });
      await appended;
      const stored = await storage.loadDocument(DOC);
      expect(contents(stored)).toHaveProperty('late0');
      expect(Object.keys(contents(stored) as object)).toHaveLength(11);
    });

    it('loses nothing when appends and compactions from two nodes interleave', async () => {
      const storage = context.storage();
      const second = await context.second();
      const first = edits(10, 'a');
      const racing = edits(20, 'b');
      for (const update of first) await storage.appendUpdate(DOC, update);
      await Promise.all([
        storage.compact(DOC, merge),
        second.compact(DOC, merge),
        ...racing.map((update, index) => (index % 2 ? storage : second).appendUpdate(DOC, update)),
        storage.compact(DOC, merge),
      ]);
      await second.compact(DOC, merge);
      const stored = await storage.loadDocument(DOC);
      expect(stored.updates).toEqual([]);
      expect(Object.keys(contents(stored) as object).sort()).toEqual(
        [...Array.from({ length: 10 }, (_, index) => `a${index}`), ...Array.from({ length: 20 }, (_, index) => `b${index}`)].sort(),
      );
    });
  });
}
