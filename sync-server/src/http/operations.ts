// What the people who run a node ask of it over HTTP: is it alive (/health), may a load balancer
// send it traffic (/ready, with the reason when not), and what it counts (/metrics, only to
// whoever holds the metrics token or reaches the metrics listener).
import { timingSafeEqual } from 'node:crypto';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { OutpostError } from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { Redis } from 'ioredis';
import type { MetricsAccess } from '../config.ts';
import type { Logger } from '../log.ts';
import { metrics, secondsSince } from '../metrics.ts';
import { tracedRequest } from '../tracing.ts';

/** Longest a readiness check waits for the database or Redis before calling it unreachable. */
const CHECK_DEADLINE_MS = 3_000;

/** What /ready looks at. */
export interface ReadinessDeps {
  storage: Storage;
  /** The shared Redis client when REDIS_URL is set, else null. */
  redis: Redis | null;
  /** True once the node has started draining (SIGTERM): no new traffic. */
  draining(): boolean;
}

/** Counts every request by method, route pattern (never the raw path: ids would explode the labels) and status. */
export function countRequests(): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // After next(), the route index is the handler that answered (a middleware's `*` when none did).
      const answered = routePath(c);
      const route = c.res.status === 404 && answered.endsWith('*') ? 'unmatched' : answered;
      metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
      metrics.httpSeconds.observe({ method: c.req.method, route }, secondsSince(started));
    }
  };
}

/** A server span per request (when tracing is on), named by method and route pattern. */
export function traceRequests(): MiddlewareHandler {
  return (c, next) =>
    tracedRequest(
      c.req.header(),
      { 'http.request.method': c.req.method, 'url.path': c.req.path },
      () => next(),
      () => ({ name: `${c.req.method} ${routePath(c)}`, attributes: { 'http.route': routePath(c), 'http.response.status_code': c.res.status } }),
    );
}

/** One debug line per answered request: id, route, status, time, and the user when signed in. */
export function logRequests(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const auth = c.get('auth') as { userId?: string; deviceId?: string } | undefined;
    log.debug('request', {
      requestId: c.get('requestId') as string | undefined,
      method: c.req.method,
      route: routePath(c),
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(auth?.userId ? { userId: auth.userId, deviceId: auth.deviceId } : {}),
    });
  };
}

function within<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_DEADLINE_MS} ms`)), CHECK_DEADLINE_MS);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Why the node should not take traffic now; empty when it is ready. */
export async function notReadyReasons(deps: ReadinessDeps): Promise<string[]> {
  const reasons: string[] = [];
  if (deps.draining()) reasons.push('draining: the node is shutting down');
  try {
    const status = await within(deps.storage.status(), 'the database');
    if (status.pendingMigrations.length > 0) reasons.push(`migrations not applied: ${status.pendingMigrations.join(', ')}`);
  } catch (error) {
    reasons.push(`database unreachable: ${(error as Error).message}`);
  }
  if (deps.redis) {
    try {
      await within(deps.redis.ping(), 'redis');
    } catch (error) {
      reasons.push(`redis unreachable: ${(error as Error).message}`);
    }
  }
  return reasons;
}

/** GET /health (the process answers) and GET /ready (it can serve: 200, or 503 with the reasons). */
export function mountProbes<E extends object>(app: Hono<E & { Variables: object }>, deps: ReadinessDeps): void {
  app.get('/health', (c) => c.json({ ok: true }));
  app.get('/ready', async (c) => {
    const reasons = await notReadyReasons(deps);
    return reasons.length === 0 ? c.json({ ready: true }) : c.json({ ready: false, reasons }, 503);
  });
}

function tokenMatches(c: Context, token: string): boolean {
  const sent = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  const a = Buffer.from(sent);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The Prometheus text exposition of the process's registry, behind the token when one is set. */
export function metricsHandler(access: MetricsAccess): (c: Context) => Promise<Response> {
  return async (c) => {
    if (access.token !== undefined && !tokenMatches(c, access.token)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.json(new OutpostError('unauthorized', 'send Authorization: Bearer <METRICS_TOKEN>').toBody(), 401);
    }
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  };
}

/**
 * GET /metrics on the main port: served with METRICS_TOKEN set and no separate listener;
 * otherwise a 404 that says how to turn it on (or where it is).
 */
export function mountMetrics<E extends object>(app: Hono<E & { Variables: object }>, access: MetricsAccess): void {
  if (access.token !== undefined && access.port === undefined) {
    app.get('/metrics', metricsHandler(access));
    return;
  }
  const message =
    access.port === undefined ? 'metrics are off: set METRICS_TOKEN (bearer token) or METRICS_PORT (a separate listener)' : 'metrics are served on METRICS_PORT';
  app.get('/metrics', (c) => c.json(new OutpostError('notFound', message).toBody(), 404));
}
