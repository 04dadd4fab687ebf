// Memory of a client whose replica holds many long conversations (issue 14): C conversations of
// M messages in Node (fake-indexeddb), started cold and offline, once with history 'onDemand'
// (each conversation's latest page in memory), once with 'replica' (the web app's: the same in
// memory, the replica kept complete in the background) and once with 'all' (every segment in memory),
// beside the same segments applied from memory into bare Y.Docs in the same run. Each run is a
// child process with --expose-gc, so a heap figure is one client's and nothing else's.
import { spawn } from 'node:child_process';
import { printReport } from '../report/Report.ts';

interface MemoryOutcome {
  heapMB: number;
  inMemoryMessages: number;
  openMs: number;
}

function runChild(args: string[]): Promise<MemoryOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=12000', new URL('./clientMemoryRun.ts', import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`memory run exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as MemoryOutcome);
    });
  });
}

export async function clientMemory(conversations: number, perConversation: number, segmentSize: number): Promise<void> {
  const shape = [String(conversations), String(perConversation), String(segmentSize)];
  const bare = await runChild(['bare', ...shape]);
  const onDemand = await runChild(['onDemand', ...shape]);
  const replica = await runChild(['replica', ...shape]);
  const all = await runChild(['all', ...shape]);
  const total = conversations * perConversation;
  printReport(
    `client memory, ${conversations} conversations × ${perConversation.toLocaleString('en')} messages (${total.toLocaleString('en')}) — Node, fake-indexeddb, offline cold start`,
    ['heap used after a full GC, less the same process before the client started; the in-memory search index of what is loaded included (the replica holds no saved index here)'],
    [
      { name: `history 'onDemand': latest page of each (${onDemand.inMemoryMessages.toLocaleString('en')} msgs in memory)`, value: onDemand.heapMB, unit: 'MB', baseline: { name: 'bare Y.Docs of every segment', value: bare.heapMB } },
      { name: `history 'replica' (the web app's): latest page of each (${replica.inMemoryMessages.toLocaleString('en')} msgs in memory)`, value: replica.heapMB, unit: 'MB', baseline: { name: 'bare Y.Docs of every segment', value: bare.heapMB } },
      { name: `history 'all': every segment (${all.inMemoryMessages.toLocaleString('en')} msgs in memory)`, value: all.heapMB, unit: 'MB', baseline: { name: 'bare Y.Docs of every segment', value: bare.heapMB } },
      { name: "cold start → every conversation's latest page ('onDemand')", value: onDemand.openMs, unit: 'ms' },
      { name: "cold start → every conversation's latest page ('replica')", value: replica.openMs, unit: 'ms' },
      { name: "cold start → every message in memory ('all')", value: all.openMs, unit: 'ms' },
    ],
  );
}
