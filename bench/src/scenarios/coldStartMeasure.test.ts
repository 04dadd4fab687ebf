// Keeps `npm run bench` working: the cold-start scenario runs end to end on a small replica.
// It asserts what the scenario computes, never how fast (speed is the bench's report).
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { measureColdStart, populate } from './coldStartMeasure.ts';

describe('the cold-start bench scenario', () => {
  it('loads a 2,000-message replica offline and measures search and storage', async () => {
    const factory = { indexedDB: new IDBFactory(), IDBKeyRange };
    await populate(2_000, 500, factory);
    const result = await measureColdStart(2_000, 500, performance.now(), () => new Promise((resolve) => setImmediate(resolve)), factory);
    expect(result.fullMs).toBeGreaterThanOrEqual(result.last50Ms);
    expect(result.searchableMs).toBeGreaterThanOrEqual(result.last50Ms);
    expect(result.searchMs.length).toBeGreaterThan(0);
    expect(result.storedBytes / 2_000).toBeGreaterThan(50); // bytes per message: a real encoding was stored
    expect(result.snapshots).toBeGreaterThanOrEqual(4);
  });

  it("with the web app's history 'replica', measures the latest messages and search without loading every segment", async () => {
    const factory = { indexedDB: new IDBFactory(), IDBKeyRange };
    await populate(2_000, 500, factory);
    const result = await measureColdStart(2_000, 500, performance.now(), () => new Promise((resolve) => setImmediate(resolve)), factory, undefined, 'replica');
    expect(result.fullMs).toBeNull();
    expect(result.searchableMs).toBeGreaterThanOrEqual(result.last50Ms);
    expect(result.searchMs.length).toBe(25);
    expect(result.scanMs.length).toBe(25);
  });
});
