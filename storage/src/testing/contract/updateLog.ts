// The contract for the update log: entries come back in order at versions 1..n, a write on a
// stale copy is refused, two nodes never both win a version, and compaction (base + trim)
// changes nothing a reader can see, even while other nodes append or compact.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { StoredDocument, UpdateLog } from '../../Storage.ts';
import { commitsContract } from './commits.ts';
import { accepted, commitLatest, commitOne, entryBytes, range, type ContractContext } from './context.ts';
import { numberingContract } from './numbering.ts';

const DOC = 'conv:00000000-0000-4000-8000-000000000001:0';
const OTHER_DOC = 'conv:00000000-0000-4000-8000-000000000001:1';

/** `count` single-key writes by one client, each as the update Yjs would send. */
function edits(count: number, prefix: string): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  for (let index = 0; index < count; index++) doc.getMap('messages').set(`${prefix}${index}`, { body: `${prefix} ${index}` });
  return updates;
}

/** What a node that loads the stored document would show. */
function contents(stored: StoredDocument): Record<string, unknown> {
  const doc = new Y.Doc();
  if (stored.base) Y.applyUpdate(doc, stored.base);
  for (const entry of stored.entries) Y.applyUpdate(doc, entry.update);
  return doc.getMap('messages').toJSON();
}

function merge(parts: Uint8Array[]): Uint8Array {
  return Y.mergeUpdates(parts);
}

/** Appends `updates` one by one, each on top of the last. */
async function appendAll(log: UpdateLog, doc: string, updates: readonly Uint8Array[], from = 0): Promise<void> {
  for (const [index, update] of updates.entries()) accepted(await commitOne(log, { doc, base: from + index, entry: update }));
}

export function updateLogContract(context: ContractContext): void {
  describe('update log', () => {
    it('returns an empty document for a name never written', async () => {
      const log = context.storage().log;
      expect(await log.load(DOC)).toEqual({ base: null, baseVersion: 0, entries: [], version: 0 });
      expect(await log.after(DOC, 0)).toEqual([]);
      expect(await log.countEntries(DOC)).toBe(0);
    });

    it('returns the entries of a document in order at versions 1..n, apart from other documents', async () => {
      const log = context.storage().log;
      const updates = edits(5, 'a');
      for (const [index, update] of updates.entries()) {
        expect(await commitOne(log, { doc: DOC, base: index, entry: update })).toEqual({ ok: true, version: index + 1, numbers: [] });
        if (index === 2) accepted(await commitOne(log, { doc: OTHER_DOC, base: 0, entry: new Uint8Array([0, 0]) }));
      }
      expect(await log.load(DOC)).toEqual({
        base: null,
        baseVersion: 0,
        entries: updates.map((update, index) => ({ version: index + 1, update })),
        version: 5,
      });
      expect(await log.countEntries(DOC)).toBe(5);
      expect(await log.load(OTHER_DOC)).toEqual({ base: null, baseVersion: 0, entries: [{ version: 1, update: new Uint8Array([0, 0]) }], version: 1 });
      expect(await log.countEntries(OTHER_DOC)).toBe(1);
    });

    it('returns exactly the entries after a version, and null once compaction took entries past it', async () => {
      const log = context.storage().log;
      const updates = edits(5, 'a');
      await appendAll(log, DOC, updates.slice(0, 3));
      const all = (await log.load(DOC)).entries;
      for (const version of range(0, 3)) expect(await log.after(DOC, version)).toEqual(all.slice(version));
      expect(await log.after(DOC, 9)).toEqual([]);

      await log.compact(DOC, merge);
      await appendAll(log, DOC, updates.slice(3), 3);
      for (const version of range(0, 2)) expect(await log.after(DOC, version)).toBeNull();
      expect(await log.after(DOC, 3)).toEqual([
        { version: 4, update: updates[3] },
        { version: 5, update: updates[4] },
      ]);
      expect(await log.after(DOC, 4)).toEqual([{ version: 5, update: updates[4] }]);
      expect(await log.after(DOC, 5)).toEqual([]);
    });

    it('refuses a write on a stale base and changes nothing, while the other writes of the batch land', async () => {
      const log = context.storage().log;
      const [first, second, third, other, ahead] = [entryBytes(), entryBytes(), entryBytes(), entryBytes(), entryBytes()];
      accepted(await commitOne(log, { doc: DOC, base: 0, entry: first }));
      const outcomes = await log.commit(
        [
          { doc: DOC, base: 1, entry: second },
          { doc: DOC, base: 2, entry: third }, // on top of the write just before it
          { doc: OTHER_DOC, base: 0, entry: other },
          { doc: DOC, base: 7, entry: ahead }, // a base the log never had
        ],
        Date.now(),
      );
      expect(outcomes).toEqual([
        { ok: true, version: 2, numbers: [] },
        { ok: true, version: 3, numbers: [] },
        { ok: true, version: 1, numbers: [] },
        { ok: false, reason: 'stale' },
      ]);
      expect((await log.load(DOC)).entries).toEqual([
        { version: 1, update: first },
        { version: 2, update: second },
        { version: 3, update: third },
      ]);
      expect((await log.load(OTHER_DOC)).entries).toEqual([{ version: 1, update: other }]);
      expect(await log.commit([], Date.now())).toEqual([]);
    });

    it('refuses every write after a refused one to the same document in a batch, even where the log is at its base', async () => {
      // Writes to one document in one batch are a chain, each based on the entry before it.
      // Found by the three-node convergence test: a chain's first write lost its race to
      // another node's entry, and the second, based on the first, landed on top of the other
      // node's, its sequence entries written after server items that never existed.
      const log = context.storage().log;
      const [elsewhere, mine, afterMine, other] = [entryBytes(), entryBytes(), entryBytes(), entryBytes()];
      accepted(await commitOne(log, { doc: DOC, base: 0, entry: elsewhere }));
      const outcomes = await log.commit(
        [
          { doc: DOC, base: 0, entry: mine }, // another node got version 1 first
          { doc: DOC, base: 1, entry: afterMine }, // based on `mine`, though the log is at 1
          { doc: OTHER_DOC, base: 0, entry: other },
        ],
        Date.now(),
      );
      expect(outcomes).toEqual([{ ok: false, reason: 'stale' }, { ok: false, reason: 'stale' }, { ok: true, version: 1, numbers: [] }]);
      expect((await log.load(DOC)).entries).toEqual([{ version: 1, update: elsewhere }]);
    });

    it('lets exactly one of several writers on the same base win, across two instances', async () => {
      const storage = context.storage();
      const second = await context.second();
      const candidates = range(1, 6).map(() => entryBytes());
      const outcomes = await Promise.all(
        candidates.map((entry, index) => commitOne((index % 2 ? second : storage).log, { doc: DOC, base: 0, entry })),
      );
      const winners = outcomes.flatMap((outcome, index) => (outcome.ok ? [index] : []));
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((outcome) => !outcome.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, reason: 'stale' })));
      expect((await second.log.load(DOC)).entries).toEqual([{ version: 1, update: candidates[winners[0]!] }]);
    });

    it('gives every entry of two instances appending at once its own version, without gaps', async () => {
      const storage = context.storage();
      const second = await context.second();
      const updates = edits(20, 'a');
      const outcomes = await Promise.all(updates.map((entry, index) => commitLatest((index % 2 ? second : storage).log, { doc: DOC, entry })));
      const versions = outcomes.map((outcome) => accepted(outcome).version);
      expect([...versions].sort((a, b) => a - b)).toEqual(range(1, 20));
      const stored = await storage.log.load(DOC);
      expect(stored.version).toBe(20);
      // Each entry sits at the version its commit reported.
      expect(stored.entries).toEqual(
        versions.map((version, index) => ({ version, update: updates[index] })).sort((a, b) => a.version - b.version),
      );
      expect(Object.keys(contents(stored))).toHaveLength(20);
    });

    it('compacts into a base that shows the same document, then keeps appending after it', async () => {
      const log = context.storage().log;
      await appendAll(log, DOC, edits(20, 'a'));
      const before = await log.load(DOC);
      await log.compact(DOC, merge);

      const after = await log.load(DOC);
      expect(after.base).not.toBeNull();
      expect(after).toMatchObject({ baseVersion: 20, entries: [], version: 20 });
      expect(contents(after)).toEqual(contents(before));
      expect(await log.countEntries(DOC)).toBe(0);

      const later = edits(3, 'b');
      expect(await commitOne(log, { doc: DOC, base: 19, entry: later[0]! })).toEqual({ ok: false, reason: 'stale' });
      await appendAll(log, DOC, later, 20);
      const withTail = await log.load(DOC);
      expect(withTail.entries).toEqual(later.map((update, index) => ({ version: 21 + index, update })));
      expect(withTail).toMatchObject({ baseVersion: 20, version: 23 });
      expect(await log.countEntries(DOC)).toBe(3);

      await log.compact(DOC, merge);
      const twice = await log.load(DOC);
      expect(twice).toMatchObject({ baseVersion: 23, entries: [], version: 23 });
      expect(contents(twice)).toEqual(contents(withTail));
      expect(Object.keys(contents(twice))).toHaveLength(23);
    });

    it('leaves a document with nothing to compact as it is', async () => {
      const log = context.storage().log;
      let merges = 0;
      const counting = (parts: Uint8Array[]) => {
        merges += 1;
        return merge(parts);
      };
      await log.compact(DOC, counting);
      expect(merges).toBe(0);
      expect(await log.load(DOC)).toEqual({ base: null, baseVersion: 0, entries: [], version: 0 });

      await appendAll(log, DOC, edits(2, 'a'));
      await log.compact(DOC, counting);
      const compacted = await log.load(DOC);
      await log.compact(DOC, counting); // nothing new since
      expect(merges).toBe(1);
      expect(await log.load(DOC)).toEqual(compacted);
    });

    it('keeps an entry appended by another instance while compaction is merging', async () => {
      const storage = context.storage();
      const second = await context.second();
      await appendAll(storage.log, DOC, edits(10, 'a'));
      const [late] = edits(1, 'late');
      let appended: Promise<unknown> | undefined;
      await storage.log.compact(DOC, (parts) => {
        // Start the append now; it completes whenever the backend lets it.
        appended ??= Promise.resolve().then(() => second.log.commit([{ doc: DOC, base: 10, entry: late! }], Date.now()));
        return merge(parts);
      });
      expect(await appended).toEqual([{ ok: true, version: 11, numbers: [] }]);
      const stored = await storage.log.load(DOC);
      expect(stored.version).toBe(11);
      expect(contents(stored)).toHaveProperty('late0');
      expect(Object.keys(contents(stored))).toHaveLength(11);
    });

    it('loses nothing when appends and compactions from two instances interleave', async () => {
      const storage = context.storage();
      const second = await context.second();
      await appendAll(storage.log, DOC, edits(10, 'a'));
      const racing = edits(20, 'b');
      await Promise.all([
        storage.log.compact(DOC, merge),
        second.log.compact(DOC, merge),
        ...racing.map((entry, index) => commitLatest((index % 2 ? storage : second).log, { doc: DOC, entry })),
        storage.log.compact(DOC, merge),
      ]);
      await second.log.compact(DOC, merge);
      const stored = await storage.log.load(DOC);
      expect(stored).toMatchObject({ baseVersion: 30, entries: [], version: 30 });
      expect(Object.keys(contents(stored)).sort()).toEqual(
        [...range(0, 9).map((index) => `a${index}`), ...range(0, 19).map((index) => `b${index}`)].sort(),
      );
    });

    it('keeps the base moving forward, round after round of two instances compacting and appending', async () => {
      const storage = context.storage();
      const second = await context.second();
      let expected = 0;
      for (const round of range(1, 5)) {
        const updates = edits(4, `r${round}-`);
        // Each round: both instances compact while entries keep arriving.
        await Promise.all([
          storage.log.compact(DOC, merge),
          ...updates.map((entry, index) => commitLatest((index % 2 ? storage : second).log, { doc: DOC, entry })),
          second.log.compact(DOC, merge),
        ]);
        expected += updates.length;
        const stored = await second.log.load(DOC);
        expect(stored.version).toBe(expected);
        expect(stored.baseVersion + stored.entries.length).toBe(stored.version);
        expect(Object.keys(contents(stored))).toHaveLength(expected);
      }
    });

    numberingContract(context);
    commitsContract(context);
  });
}
