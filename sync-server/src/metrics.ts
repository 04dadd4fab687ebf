// What a node counts for Prometheus (prom-client): one registry per process, since a node is one
// process in production. Counters and histograms are incremented where things happen (the write
// path, the committer, the HTTP API); gauges of live state (sockets, documents, the Postgres
// pool, Redis) are read from the running nodes when Prometheus scrapes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '@outpost/storage';

/** Live state of one running node, read at scrape time. */
export interface MetricsSource {
  connections(): number;
  documents(): number;
  /** Bytes sent to sockets that their clients have not read yet, summed. */
  sendBufferBytes(): number;
  pool(): PoolStats | null;
  /** null when the node runs without Redis. */
  redisUp(): boolean | null;
}

const registry = new Registry();
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

const sources = new Set<MetricsSource>();
const sum = (read: (source: MetricsSource) => number | null | undefined): number => {
  let total = 0;
  for (const source of sources) total += read(source) ?? 0;
  return total;
};

/** Seconds: from sub-millisecond (a batched SQLite commit) to the 30 s statement deadline. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The node's metrics. Other modules increment them directly, e.g.
 * `metrics.auditEvents.inc({ kind: 'signIn' })`.
 */
export const metrics = {
  registry,
  connections: new Gauge({
    name: 'outpost_connections_open',
    help: 'WebSocket connections open on this node',
    registers: [registry],
    collect() {
      this.set(sum((source) => source.connections()));
    },
  }),
  sendBuffer: new Gauge({
    name: 'outpost_socket_send_buffer_bytes',
    help: 'Bytes sent to WebSocket clients that they have not read yet, summed over the sockets',
    registers: [registry],
    collect() {
      this.set(sum((source) => source.sendBufferBytes()));
    },
  }),
  socketsTooSlow: new Counter({
    name: 'outpost_sockets_too_slow_total',
    help: 'Sockets closed because their client left more than SOCKET_SEND_MAX_BYTES unread',
    registers: [registry],
  }),
  documents: new Gauge({
    name: 'outpost_documents_open',
    help: 'Yjs documents loaded on this node',
    registers: [registry],
    collect() {
      this.set(sum((source) => source.documents()));
    },
  }),
  updatesAccepted: new Counter({
    name: 'outpost_updates_accepted_total',
    help: 'Client updates committed and applied, by document kind (segment, user)',
    labelNames: ['doc'] as const,
    registers: [registry],
  }),
  updatesRefused: new Counter({
    name: 'outpost_updates_refused_total',
    help: 'Client updates refused, by error kind and refusal code (what the client is told to do)',
    labelNames: ['kind', 'code'] as const,
    registers: [registry],
  }),
  messagesNumbered: new Counter({
    name: 'outpost_messages_numbered_total',
    help: 'New messages given their sequence number',
    registers: [registry],
  }),
  commitSeconds: new Histogram({
    name: 'outpost_update_log_append_seconds',
    help: 'One batched commit to the update log (append, numbering and read positions in one transaction)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  commitBatchSize: new Histogram({
    name: 'outpost_update_log_batch_size',
    help: 'Writes committed together in one transaction',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 512],
    registers: [registry],
  }),
  commitFailures: new Counter({
    name: 'outpost_update_log_append_failures_total',
    help: 'Commit batches that failed (the database was away or stalled); their writes are refused as "retry"',
    registers: [registry],
  }),
  numberingSeconds: new Histogram({
    name: 'outpost_message_numbering_seconds',
    help: 'From receiving an update with new messages to their numbers being committed and applied',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  dbPool: new Gauge({
    name: 'outpost_db_pool_connections',
    help: 'Postgres pool connections by state: in use, idle, and callers waiting for one',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const pools = [...sources].map((source) => source.pool()).filter((pool): pool is PoolStats => pool !== null);
      if (pools.length === 0) return;
      const total = (key: keyof PoolStats) => pools.reduce((n, pool) => n + pool[key], 0);
      this.set({ state: 'in_use' }, total('total') - total('idle'));
      this.set({ state: 'idle' }, total('idle'));
      this.set({ state: 'waiting' }, total('waiting'));
    },
  }),
  redisUp: new Gauge({
    name: 'outpost_redis_up',
    help: '1 while notices flow through Redis, 0 while it is away (absent without REDIS_URL)',
    // Registered once a node with Redis runs: without REDIS_URL there is nothing to be down.
    registers: [],
    collect() {
      const states = [...sources].map((source) => source.redisUp()).filter((up): up is boolean => up !== null);
      if (states.length > 0) this.set(states.every(Boolean) ? 1 : 0);
    },
  }),
  httpRequests: new Counter({
    name: 'outpost_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  }),
  httpSeconds: new Histogram({
    name: 'outpost_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  /** Security-relevant events written to the audit log, by kind (incremented by the audit log). */
  auditEvents: new Counter({
    name: 'outpost_audit_events_total',
    help: 'Audit log events recorded, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
};

/** Adds a running node's live state to what is scraped; call the result when it closes. */
export function observeNode(source: MetricsSource): () => void {
  sources.add(source);
  if (source.redisUp() !== null && !registry.getSingleMetric('outpost_redis_up')) registry.registerMetric(metrics.redisUp);
  return () => {
    sources.delete(source);
  };
}

/** Seconds since `start` (a `performance.now()` reading), for histograms. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
