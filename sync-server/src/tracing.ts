// OpenTelemetry traces of what a node does: each client update through the write path (lock,
// catch-up, judge, commit, apply, fan-out) and each HTTP request, exported over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. Unset, the SDK is never loaded and `traced` only calls its
// work: the write path pays one boolean test per stage.
import { DiagLogLevel, SpanKind, SpanStatusCode, context, diag, propagation, trace, type Attributes, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import type { Logger } from './log.ts';

const TRACER = 'outpost';
let enabled = false;
let running: Promise<{ flush(): Promise<void>; shutdown(): Promise<void> }> | null = null;

/** What {@link startTracing} needs. */
export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: base URL of an OTLP/HTTP receiver (spans go to `<url>/v1/traces`). */
  endpoint: string;
  /** OTEL_SERVICE_NAME (default "outpost"). */
  serviceName: string;
}

/**
 * Loads the SDK and registers a tracer provider for the process (once; later calls reuse it).
 * Spans are batched and sent as OTLP JSON; W3C `traceparent` headers are honoured.
 */
export function startTracing(options: TracingOptions, log?: Logger): Promise<{ flush(): Promise<void>; shutdown(): Promise<void> }> {
  running ??= (async () => {
    // The SDK reports a receiver that refuses or does not answer only through its own logger,
    // silent by default: an operator must see that spans are being lost.
    if (log) {
      const warn = (message: string, ...args: unknown[]) => log.warn(`tracing: ${message}`, { detail: args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ') });
      diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    }
    const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
    });
    provider.register();
    enabled = true;
    return {
      flush: () => provider.forceFlush(),
      shutdown: async () => {
        enabled = false;
        await provider.shutdown();
      },
    };
  })();
  return running;
}

/** Sends what is buffered (a node closing); nothing when tracing is off. */
export async function flushTracing(): Promise<void> {
  if (!running) return;
  try {
    await (await running).flush();
  } catch (error) {
    // The spans are lost, not the node's shutdown: said in the log like any failed export.
    diag.error('could not send the last spans', error);
  }
}

function settle(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `work` inside a span named `name` (a child of the active one); just runs it when tracing is off. */
export async function traced<T>(name: string, attributes: Attributes, work: (span: Span | null) => Promise<T>): Promise<T> {
  if (!enabled) return work(null);
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await work(span);
      settle(span);
      return result;
    } catch (error) {
      settle(span, error);
      throw error;
    }
  });
}

/** The synchronous form of {@link traced}. */
export function tracedSync<T>(name: string, attributes: Attributes, work: () => T): T {
  if (!enabled) return work();
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes }, (span) => {
    try {
      const result = work();
      settle(span);
      return result;
    } catch (error) {
      settle(span, error);
      throw error;
    }
  });
}

/** The active span's context (to link a shared piece of work back to it), or null when tracing is off. */
export function activeSpanContext(): SpanContext | null {
  return enabled ? (trace.getActiveSpan()?.spanContext() ?? null) : null;
}

/**
 * Runs work shared by several traces (one commit for many updates) in a root span of its own,
 * linked to each of them; just runs it when tracing is off.
 */
export async function tracedShared<T>(name: string, attributes: Attributes, from: readonly (SpanContext | null)[], work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  const links: Link[] = from.filter((span): span is SpanContext => span !== null).map((span) => ({ context: span }));
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes, links, root: true }, async (span) => {
    try {
      const result = await work();
      settle(span);
      return result;
    } catch (error) {
      settle(span, error);
      throw error;
    }
  });
}

/** A span started now and ended by the caller (a wait that ends in another callback), or null when off. */
export function startSpan(name: string, attributes: Attributes = {}): Span | null {
  return enabled ? trace.getTracer(TRACER).startSpan(name, { attributes }) : null;
}

/**
 * Runs an HTTP request's handling inside a server span continuing the caller's `traceparent`;
 * `describe` names it once the route is known (after the handler ran).
 */
export async function tracedRequest(
  headers: Record<string, string>,
  attributes: Attributes,
  work: () => Promise<void>,
  describe: () => { name: string; attributes: Attributes },
): Promise<void> {
  if (!enabled) return work();
  const parent = propagation.extract(context.active(), headers);
  const span = trace.getTracer(TRACER).startSpan('HTTP request', { kind: SpanKind.SERVER, attributes }, parent);
  try {
    await context.with(trace.setSpan(parent, span), work);
    const described = describe();
    span.updateName(described.name);
    span.setAttributes(described.attributes);
    if (Number(described.attributes['http.response.status_code']) >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  } catch (error) {
    settle(span, error);
    throw error;
  }
}
