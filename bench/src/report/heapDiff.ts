// What a heap grew by between two V8 heap snapshots (`HEAP_SNAPSHOT=dir npm run bench -- server`
// writes one before the idle clients connect and one after): live objects by kind, per unit
// (`node bench/src/report/heapDiff.ts before.heapsnapshot after.heapsnapshot [units]`), largest
// growth first. A snapshot is taken after a full collection, so garbage is not counted.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count of live objects, by kind: constructor name for objects, the type otherwise. */
export function heapByKind(file: string): Map<string, { count: number; bytes: number }> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt] as number] as string;
    const name = data.strings[data.nodes[i + nameAt] as number] as string;
    const kind = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${name.slice(0, 60)}` : `(${type})`;
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += data.nodes[i + sizeAt] as number;
    kinds.set(kind, entry);
  }
  return kinds;
}

export function heapDiff(beforeFile: string, afterFile: string, units: number, rows = 40): string {
  const before = heapByKind(beforeFile);
  const after = heapByKind(afterFile);
  const grown = [...after].map(([kind, a]) => {
    const b = before.get(kind) ?? { count: 0, bytes: 0 };
    return { kind, count: (a.count - b.count) / units, bytes: (a.bytes - b.bytes) / units };
  });
  const total = grown.reduce((sum, g) => sum + g.bytes, 0);
  grown.sort((x, y) => y.bytes - x.bytes);
  const lines = [`heap grown per unit (${units} units): ${(total / 1024).toFixed(1)} KiB`];
  for (const g of grown.slice(0, rows)) lines.push(`${(g.bytes / 1024).toFixed(2).padStart(8)} KiB ${g.count.toFixed(1).padStart(7)} × ${g.kind}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [beforeFile, afterFile, units] = process.argv.slice(2);
  if (!beforeFile || !afterFile) throw new Error('usage: heapDiff.ts before.heapsnapshot after.heapsnapshot [units]');
  console.log(heapDiff(beforeFile, afterFile, Number(units ?? 1)));
}
