// Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, a node sends OTLP/HTTP spans of each update's way
// through the write path and of each HTTP request to a receiver (a tiny one in this test); unset,
// the OpenTelemetry SDK is never even loaded.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  service: string;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpExport = {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: OtlpValue }[]; links?: { traceId: string; spanId: string }[] }[] }[];
  }[];
};

const valueOf = (value: OtlpValue): unknown => value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue));

/** An OTLP/HTTP receiver that keeps every span it is sent (JSON encoding; anything else is answered 415 and recorded). */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; refused: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !req.headers['content-type']?.startsWith('application/json')) {
        refused.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpExport;
      for (const resource of body.resourceSpans) {
        const service = String(valueOf(resource.resource.attributes.find((a) => a.key === 'service.name')?.value ?? {}));
        for (const scope of resource.scopeSpans) {
          for (const span of scope.spans) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: span.kind,
              attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
              links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
              service,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('traces over OTLP', () => {
  it('follow an update through lock, catch-up, judge, commit, apply and fan-out, and HTTP requests by route', async () => {
    const receiver = await startReceiver();
    try {
      // The node's warnings (an export the SDK gave up on among them) explain a failure below.
      const warnings: string[] = [];
      const note = (level: string) => (msg: string, fields?: Record<string, unknown>) => void warnings.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
      const log = { debug: () => {}, info: () => {}, warn: note('warn'), error: note('error') };
      const server = await startNode({ ...(await freshDatabase('sqlite')), log, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'outpost-test' } });
      const ada = await signUp(server.url, 'ada');
      const bob = await signUp(server.url, 'bob');
      const id = await ada.openDirect(bob.user.id);
      ada.conversation(id).send('traced');
      await until('numbered', () => history(bob.conversation(id)).some((line) => line.body === 'traced' && line.seq !== null));
      // A caller's W3C trace context is continued.
      const traceId = 'a'.repeat(31) + '1';
      await fetch(`${server.url}/api/users/me`, { headers: { authorization: `Bearer ${ada.session.accessToken}`, traceparent: `00-${traceId}-${'b'.repeat(16)}-01` } });
      await server.close(); // flushes what is buffered
      // An export the SDK retries (a transient failure on a loaded machine) may land after close:
      // wait for the spans this test reads, and say what arrived and what the node logged if not.
      const wanted = ['outpost.update', 'outpost.commitBatch', 'POST /api/auth/register', 'GET /api/users/me'];
      await until(
        'the spans reach the receiver',
        () => wanted.every((name) => receiver.spans.some((span) => span.name === name)),
        () => ({ received: receiver.spans.map((span) => span.name), refused: receiver.refused, warnings }),
        15_000,
      );

      expect(receiver.refused).toEqual([]);
      const { spans } = receiver;
      expect(spans.every((span) => span.service === 'outpost-test')).toBe(true);

      const segment = `conv:${id}:0`;
      const update = spans.find((span) => span.name === 'outpost.update' && span.attributes['outpost.document'] === segment && span.attributes['outpost.outcome'] === 'applied');
      expect(update, JSON.stringify({ received: spans.map((span) => span.name), warnings })).toBeDefined();
      const children = spans.filter((span) => span.traceId === update!.traceId && span.parentSpanId === update!.spanId).map((span) => span.name);
      expect(children).toContain('outpost.lock');
      // Judging, committing, applying and fanning out happen inside the lock's work, under the update.
      const inTrace = new Set(spans.filter((span) => span.traceId === update!.traceId).map((span) => span.name));
      for (const stage of ['outpost.catchUp', 'outpost.analyze', 'outpost.validate', 'outpost.commit', 'outpost.apply', 'outpost.fanOut']) expect(inTrace, stage).toContain(stage);

      // The batched commit is one span of its own, linked to the commit span of every update in it.
      const commit = spans.find((span) => span.traceId === update!.traceId && span.name === 'outpost.commit');
      const batch = spans.find((span) => span.name === 'outpost.commitBatch' && span.links.some((link) => link.spanId === commit?.spanId));
      expect(batch?.links).toContainEqual({ traceId: update!.traceId, spanId: commit!.spanId });
      expect(batch?.attributes['outpost.batch_size']).toBeGreaterThanOrEqual(1);

      const register = spans.find((span) => span.name === 'POST /api/auth/register');
      expect(register).toMatchObject({ kind: 2, attributes: { 'http.route': '/api/auth/register', 'http.response.status_code': 201 } }); // 2: SERVER
      const me = spans.find((span) => span.name === 'GET /api/users/me');
      expect(me).toMatchObject({ traceId, parentSpanId: 'b'.repeat(16) });
    } finally {
      await receiver.close();
    }
  });

  it('without an endpoint, the OpenTelemetry SDK is never loaded', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-notrace-'));
    try {
      // A node started and used in a child process that records every module it resolves.
      const script = `
        import { registerHooks } from 'node:module';
        const seen = [];
        registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); seen.push(result.url); return result; } });
        const { loadConfig, startServer } = await import('@outpost/sync-server');
        const server = await startServer(loadConfig({ PORT: '0', DATA_DIR: ${JSON.stringify(dataDir)}, LOG_LEVEL: 'silent' }));
        await fetch(server.url + '/health');
        await server.close();
        console.log(JSON.stringify(seen.filter((url) => url.includes('@opentelemetry'))));
      `;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const loaded = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as string[];
      expect(loaded.length).toBeGreaterThan(0); // the API (a no-op without an SDK) is imported…
      expect(loaded.filter((url) => !url.includes('/@opentelemetry/api/'))).toEqual([]); // …and nothing else
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
