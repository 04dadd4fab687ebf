// What a sampling heap profile (`ALLOC_PROF=dir npm run bench -- server`, see
// load/allocationSampler.ts) says was allocated, per unit: in all, and by the function that
// allocated it (self) and by the functions under which it was allocated (inclusive), largest
// first. `node bench/src/report/allocations.ts file.heapprofile [units]` prints it for a file.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const frameName = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode): string =>
  `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;

/** Bytes allocated in all, and by function (self, and inclusive of what it called). */
export function allocationsByFunction(file: string): { total: number; self: Map<string, number>; inclusive: Map<string, number> } {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, above: ReadonlySet<string>): void => {
    const name = frameName(node);
    const path = above.has(name) ? above : new Set([...above, name]);
    total += node.selfSize;
    self.set(name, (self.get(name) ?? 0) + node.selfSize);
    for (const caller of path) inclusive.set(caller, (inclusive.get(caller) ?? 0) + node.selfSize);
    if (!node.callFrame.url) scriptless.add(name);
    for (const child of node.children) walk(child, path);
  };
  // Frames without a script (the root, the event loop's own, natives) hold what is under them: no news.
  const scriptless = new Set<string>();
  walk(head, new Set());
  for (const name of scriptless) inclusive.delete(name);
  return { total, self, inclusive };
}

/** The report: KiB per unit in all, then the `top` largest by self and by inclusive size. */
export function allocationReport(file: string, units: number, top = 10): string {
  const { total, self, inclusive } = allocationsByFunction(file);
  const kib = (bytes: number) => `${(bytes / units / 1024).toFixed(1).padStart(7)} KiB`;
  const largest = (sizes: Map<string, number>) =>
    [...sizes].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, bytes]) => `${kib(bytes)}  ${((bytes / total) * 100).toFixed(1).padStart(4)} %  ${name}`);
  return [
    `allocated per unit (${units.toLocaleString('en')} units): ${kib(total).trim()}`,
    'by the function that allocated it:',
    ...largest(self),
    'under (inclusive):',
    ...largest(inclusive),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, units] = process.argv.slice(2);
  if (!file) throw new Error('usage: node bench/src/report/allocations.ts file.heapprofile [units]');
  console.log(allocationReport(file, Number(units ?? 1)));
}
