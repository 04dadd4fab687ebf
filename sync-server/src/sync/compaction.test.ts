// When a document's log is compacted: every COMPACT_AFTER entries, at a phase of the document's
// own, so that conversations moving at the same pace do not all compact at the same moment.
import { describe, expect, it } from 'vitest';
import { COMPACT_AFTER, compactsAt } from './compaction.ts';

describe('compaction points', () => {
  it('once every COMPACT_AFTER entries per document, never at version 0', () => {
    for (const name of ['conv:a:0', 'conv:b:3', 'user:x', 'inbox:y']) {
      const points = Array.from({ length: COMPACT_AFTER * 5 }, (_, version) => version).filter((version) => compactsAt(name, version));
      expect(points.length).toBeGreaterThanOrEqual(4);
      expect(points.length).toBeLessThanOrEqual(5);
      for (let i = 1; i < points.length; i++) expect((points[i] as number) - (points[i - 1] as number)).toBe(COMPACT_AFTER);
      expect(points).not.toContain(0);
    }
  });

  it('at different moments for documents that move together', () => {
    // Twenty conversations written at the same pace (as in the load bench): the versions at which
    // each compacts first are spread over the interval, not all the same.
    const names = Array.from({ length: 20 }, (_, i) => `conv:00000000-0000-4000-8000-${String(i).padStart(12, '0')}:0`);
    const first = names.map((name) => Array.from({ length: COMPACT_AFTER + 1 }, (_, v) => v + 1).find((version) => compactsAt(name, version)) as number);
    expect(new Set(first).size).toBeGreaterThanOrEqual(15);
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(COMPACT_AFTER / 2);
  });
});
