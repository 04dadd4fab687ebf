import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStorage } from '@outpost/storage';
import { notReadyReasons } from './operations.ts';

describe('notReadyReasons', () => {
  const storage = new SqliteStorage(':memory:');
  afterAll(() => storage.close());

  it('names migrations the database lacks, and then draining', async () => {
    expect(await notReadyReasons({ storage, redis: null, draining: () => false })).toEqual([expect.stringMatching(/^migrations not applied: 1, 2, /)]);
    await storage.migrate();
    expect(await notReadyReasons({ storage, redis: null, draining: () => false })).toEqual([]);
    expect(await notReadyReasons({ storage, redis: null, draining: () => true })).toEqual(['draining: the node is shutting down']);
  });
});
