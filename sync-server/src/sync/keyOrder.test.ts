// keyOrder.ts replays where Yjs puts concurrent values of one map key. Checked against Yjs itself:
// seeded replicas write, overwrite and delete a few keys concurrently and exchange updates in
// random orders; before each update is applied, the prediction of what each key will hold is
// compared with what the document holds once Yjs has applied it. SEED=n replays one seed.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { analyzeUpdate } from './analyze.ts';
import { rngOf, seedsToRun } from './testing/random.ts';

const KEYS = ['a', 'b', 'c'];

/** The key's last item once Yjs has applied the update, and whether it is live. */
function holderInDocument(doc: Y.Doc, key: string): { item: Y.Item | null; live: boolean } {
  const item = (doc.getMap('m') as unknown as { _map: Map<string, Y.Item> })._map.get(key) ?? null;
  return { item, live: item !== null && !item.deleted };
}

/** Same struct: Yjs may have split or merged it since, so their clock ranges overlap. */
function sameStruct(a: { id: Y.ID; length: number } | null, b: Y.Item | null): boolean {
  if (a === null || b === null) return a === null && b === null;
  return a.id.client === b.id.client && a.id.clock < b.id.clock + b.length && b.id.clock < a.id.clock + a.length;
}

/** True when some new value of `key` was written without seeing the one before it (the replayed case). */
function writtenWithoutSeeing(doc: Y.Doc, writes: readonly { item: Y.Item; site: { key: string } }[], key: string): boolean {
  let holder = (doc.getMap('m') as unknown as { _map: Map<string, Y.Item> })._map.get(key) ?? null;
  for (const { item, site } of writes) {
    if (site.key !== key) continue;
    const expected = holder === null ? null : Y.createID(holder.id.client, holder.id.clock + holder.length - 1);
    if (expected === null ? item.origin !== null : item.origin === null || item.origin.client !== expected.client || item.origin.clock !== expected.clock) return true;
    holder = item;
  }
  return false;
}

describe('which value a map key holds once an update is in', () => {
  it('matches Yjs on concurrent writes, overwrites and deletions', () => {
    let compared = 0;
    let replayed = 0;
    for (const seed of seedsToRun(300)) {
      const rng = rngOf(seed);
      const docs = Array.from({ length: rng.between(2, 4) }, () => {
        const doc = new Y.Doc();
        doc.clientID = 1 + rng.int(2 ** 31);
        return doc;
      });
      for (let step = 0; step < 60; step++) {
        const doc = rng.pick(docs);
        if (rng.chance(0.55)) {
          doc.transact(() => {
            for (let i = rng.between(1, 3); i > 0; i--) {
              const key = rng.pick(KEYS);
              if (rng.chance(0.2)) doc.getMap('m').delete(key);
              else doc.getMap('m').set(key, rng.int(100));
            }
          });
          continue;
        }
        const target = rng.pick(docs.filter((d) => d !== doc));
        const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(target));
        const analysis = analyzeUpdate(target, update);
        if (!analysis.integrable || analysis.empty) {
          Y.applyUpdate(target, update);
          continue;
        }
        // Yjs splits structs as it integrates: keep the predicted holder's clock range as it was.
        const predicted = new Map(
          KEYS.map((key) => {
            const holder = analysis.holderOf({ root: 'm', key });
            return [key, holder === 'unknown' ? holder : { live: holder.live, range: holder.item && { id: holder.item.id, length: holder.item.length } }];
          }),
        );
        const concurrent = KEYS.some((key) => writtenWithoutSeeing(target, analysis.writes, key));
        Y.applyUpdate(target, update);
        for (const key of KEYS) {
          const prediction = predicted.get(key);
          if (prediction === 'unknown') throw new Error(`seed ${seed}: could not tell what ${key} holds (replay with SEED=${seed})`);
          const actual = holderInDocument(target, key);
          const where = `seed ${seed}, key ${key} (replay with SEED=${seed})`;
          expect(prediction?.live, where).toBe(actual.live);
          expect(sameStruct(prediction?.range ?? null, actual.item), where).toBe(true);
          compared += 1;
        }
        if (concurrent) replayed += 1;
      }
    }
    expect(compared).toBeGreaterThan(0);
    // A good share of the updates must be of the hard case, where the key's list is replayed.
    expect(replayed).toBeGreaterThan(compared / KEYS.length / 4);
  });
});
