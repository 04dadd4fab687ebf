// The allocation report reads a sampling heap profile as V8 writes it: a tree of call frames,
// each with the bytes allocated in that frame itself.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { allocationReport, allocationsByFunction } from './allocations.ts';

// V8's root frame has no script; the others are functions in app/src/<name>.ts at line 10.
const frame = (functionName: string, selfSize: number, children: unknown[] = []) => ({
  callFrame: { functionName, url: functionName === '(root)' ? '' : `file:///app/src/${functionName}.ts`, lineNumber: 9, columnNumber: 0, scriptId: '1' },
  selfSize,
  id: 0,
  children,
});

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function saved(head: unknown): string {
  dir = mkdtempSync(path.join(tmpdir(), 'outpost-alloc-'));
  const file = path.join(dir, 'a.heapprofile');
  writeFileSync(file, JSON.stringify({ head, samples: [] }));
  return file;
}

it('sums bytes by the allocating function and by every function above it, a recursion counted once', () => {
  // root → apply (100) → encode (300) → apply (50, recursion) ; root → judge (600)
  const file = saved(frame('(root)', 0, [frame('apply', 100, [frame('encode', 300, [frame('apply', 50)])]), frame('judge', 600)]));
  const { total, self, inclusive } = allocationsByFunction(file);
  expect(total).toBe(1_050);
  expect(self.get('apply src/apply.ts:10')).toBe(150);
  expect(self.get('encode src/encode.ts:10')).toBe(300);
  expect(inclusive.get('apply src/apply.ts:10')).toBe(450);
  expect(inclusive.get('encode src/encode.ts:10')).toBe(350);
  expect(inclusive.get('judge src/judge.ts:10')).toBe(600);
  expect([...inclusive.keys()].some((name) => name.startsWith('(root)'))).toBe(false);
});

it('reports per unit, largest first', () => {
  const file = saved(frame('(root)', 0, [frame('small', 1_024), frame('large', 9_216)]));
  const report = allocationReport(file, 2);
  expect(report.split('\n')[0]).toBe('allocated per unit (2 units): 5.0 KiB');
  expect(report.split('\n')[2]).toMatch(/^\s+4\.5 KiB\s+90\.0 %\s+large src\/large\.ts:10$/);
});
