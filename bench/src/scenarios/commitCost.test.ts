// A tiny run of `npm run bench -- commit`, so the scenario cannot break silently. It checks that
// every figure was measured, not how large it is (timing belongs to the bench, not the tests).
import { describe, expect, it } from 'vitest';
import { commitCost } from './commitCost.ts';

describe('the SQLite commit bench, tiny', () => {
  it('commits, indexes and measures every batch size against the raw insert', async () => {
    const measurements = await commitCost(30);
    expect(measurements).toHaveLength(12);
    for (const measurement of measurements) {
      expect(Number.isFinite(measurement.value), measurement.name).toBe(true);
      expect(measurement.value, measurement.name).toBeGreaterThan(0);
      expect(measurement.baseline?.value, measurement.name).toBeGreaterThan(0);
    }
  });
});
