// Operating a node: /metrics in the Prometheus text format (parsed by a Prometheus parser, not
// by us), closed unless configured, and moving when messages flow; /health and /ready.
import { afterAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { segmentDoc, writeMessage, type MessageId, type UserId } from '@outpost/shared-schema';
import { attempt } from './attacker.ts';
import { freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { history } from './history.ts';

afterAll(teardown);

const TOKEN = 'metrics-token-for-tests-0123456789';

type Family = MetricFamily;

async function scrape(url: string, token = TOKEN): Promise<Map<string, Family>> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await response.text());
  return new Map(families.map((family) => [family.name, family]));
}

/** The value of a counter or gauge sample whose labels include `labels` (summed), 0 when absent. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (!family) return 0;
  return family.metrics
    .filter((sample) => Object.entries(labels).every(([key, v]) => sample.labels?.[key] === v))
    .reduce((total, sample) => total + Number(sample.value ?? sample.count ?? 0), 0);
}

describe('GET /metrics', () => {
  it('is not served without a token or a separate listener', async () => {
    const server = await startNode(await freshDatabase('sqlite'));
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/METRICS_TOKEN/);
    expect(server.metricsUrl).toBeNull();
  });

  it('asks for the bearer token, then counts connections, updates, numbering, refusals and requests as messages flow', async () => {
    const server = await startNode({ ...(await freshDatabase('sqlite')), env: { METRICS_TOKEN: TOKEN } });
    const url = `${server.url}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } })).status).toBe(401);

    const before = await scrape(url);
    // Process metrics and event-loop lag come from prom-client's defaults; the audit counter is declared for the audit log.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(before.has(name), name).toBe(true);
    }
    expect(before.get('outpost_audit_events_total')?.type).toBe('COUNTER');
    expect(before.get('outpost_update_log_append_seconds')?.type).toBe('HISTOGRAM');

    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const chat = ada.conversation(id);
    // One at a time, so each is its own update (the SDK may merge what is sent in one turn).
    for (const [index, body] of ['one', 'two', 'three'].entries()) {
      chat.send(body);
      await until(`message ${index + 1} numbered at bob`, () => history(bob.conversation(id)).filter((line) => line.seq !== null).length === index + 1);
    }

    // A forged author is refused, and counted by its kind and code.
    const forged = await attempt(server.url, segmentDoc(id, 0), ada.session.accessToken, (doc) =>
      writeMessage(doc, crypto.randomUUID() as MessageId, { author: bob.user.id as UserId, createdAt: 1, body: 'from "bob"' }),
    );
    expect(forged.refused).toBe(true);

    const after = await scrape(url);
    expect(value(after, 'outpost_messages_numbered_total') - value(before, 'outpost_messages_numbered_total')).toBe(3);
    expect(value(after, 'outpost_updates_accepted_total', { doc: 'segment' }) - value(before, 'outpost_updates_accepted_total', { doc: 'segment' })).toBeGreaterThanOrEqual(3);
    expect(value(after, 'outpost_updates_refused_total', { kind: 'forbidden', code: 'ruleBroken' })).toBe(1);
    expect(value(after, 'outpost_update_log_append_seconds') - value(before, 'outpost_update_log_append_seconds')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'outpost_message_numbering_seconds') - value(before, 'outpost_message_numbering_seconds')).toBe(3);
    expect(value(after, 'outpost_connections_open')).toBeGreaterThanOrEqual(2);
    expect(value(after, 'outpost_documents_open')).toBeGreaterThanOrEqual(1);
    // Requests are labelled by route pattern and status, never by raw path.
    expect(value(after, 'outpost_http_requests_total', { method: 'POST', route: '/api/auth/register', status: '201' })).toBe(2);
    expect(value(after, 'outpost_http_requests_total', { route: '/metrics', status: '401' })).toBe(2);
    expect([...(after.get('outpost_http_requests_total')?.metrics ?? [])].every((sample) => !sample.labels?.route?.includes(id))).toBe(true);
    // Without Postgres and Redis there is no pool and no Redis to report.
    expect(after.has('outpost_db_pool_connections') && after.get('outpost_db_pool_connections')!.metrics.length > 0).toBe(false);
    expect(after.get('outpost_redis_up')?.metrics.length ?? 0).toBe(0);
  });

  it('counts every message of a burst, however the write path groups the updates', async () => {
    const server = await startNode({ ...(await freshDatabase('sqlite')), env: { METRICS_TOKEN: TOKEN } });
    const people = await Promise.all(['ada', 'bob', 'cy', 'dee'].map((name) => signUp(server.url, name)));
    const [owner, ...others] = people as [(typeof people)[0], ...typeof people];
    const id = await owner.createGroup('burst', others.map((person) => person.user.id));
    await until('everyone has the group', () => people.every((person) => person.conversations().get().some((c) => c.id === id)));
    const before = await scrape(`${server.url}/metrics`);
    // Everyone sends at once: updates to one segment queue up and are committed in runs.
    for (let round = 0; round < 5; round++) for (const person of people) person.conversation(id).send(`${person.user.username} ${round}`);
    await until('20 messages numbered', () => history(owner.conversation(id)).filter((line) => line.seq !== null).length === 20);
    const after = await scrape(`${server.url}/metrics`);
    expect(value(after, 'outpost_messages_numbered_total') - value(before, 'outpost_messages_numbered_total')).toBe(20);
    const updates = value(after, 'outpost_updates_accepted_total', { doc: 'segment' }) - value(before, 'outpost_updates_accepted_total', { doc: 'segment' });
    expect(value(after, 'outpost_message_numbering_seconds') - value(before, 'outpost_message_numbering_seconds')).toBe(updates);
  });

  it('with METRICS_PORT is served only on its own listener', async () => {
    const server = await startNode({ ...(await freshDatabase('sqlite')), env: { METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' } });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const families = await scrape(server.metricsUrl as string, '');
    expect(families.has('outpost_connections_open')).toBe(true);
  });
});

describe('GET /health and /ready', () => {
  it('are both fine on a running SQLite node', async () => {
    const server = await startNode(await freshDatabase('sqlite'));
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true });
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
  });
});
