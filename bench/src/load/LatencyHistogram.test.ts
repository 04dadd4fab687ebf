import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './LatencyHistogram.ts';

describe('LatencyHistogram', () => {
  it('answers percentiles within its 2% bucket width, and merges', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 500; i++) a.record(i);
    for (let i = 501; i <= 1000; i++) b.record(i);
    a.add(new LatencyHistogram(b.data()));
    expect(a.count).toBe(1000);
    expect(a.max).toBe(1000);
    for (const [p, exact] of [[0.5, 500], [0.95, 950], [0.99, 990]] as const) {
      expect(a.percentile(p)).toBeGreaterThanOrEqual(exact);
      expect(a.percentile(p)).toBeLessThanOrEqual(exact * 1.02);
    }
    expect(a.percentile(1)).toBe(1000);
  });

  it('has no percentile without samples', () => {
    expect(new LatencyHistogram().percentile(0.5)).toBeNaN();
  });
});
