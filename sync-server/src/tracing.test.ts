// A receiver that refuses spans is reported in the node's log: the OpenTelemetry SDK says so only
// through its own logger, silent unless one is set, and an operator must know spans are lost.
// (A file of its own: tracing is started once per process.)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { flushTracing, startTracing, traced } from './tracing.ts';

it('logs a warning when the receiver refuses an export', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500).end('down for maintenance'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const warnings: string[] = [];
  const log = { debug: () => {}, info: () => {}, warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push(`${msg} ${JSON.stringify(fields ?? {})}`), error: () => {} };
  try {
    const tracing = await startTracing({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, serviceName: 'outpost-test' }, log);
    // The batch sent on its schedule (every second) is refused: the log says so.
    await traced('outpost.test', {}, async () => {});
    for (let waited = 0; waited < 20_000 && warnings.length === 0; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(warnings.some((line) => line.startsWith('tracing:')), JSON.stringify(warnings)).toBe(true);
    // So is the last batch a closing node sends, and closing goes on.
    warnings.length = 0;
    await traced('outpost.test', {}, async () => {});
    await flushTracing();
    expect(warnings.some((line) => line.startsWith('tracing: could not send the last spans')), JSON.stringify(warnings)).toBe(true);
    await tracing.shutdown().catch(() => {});
  } finally {
    server.close();
  }
});
