// Reads every setting from the environment once, at start-up, and fails naming the bad one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import proxyaddr from 'proxy-addr';
import { fileURLToPath } from 'node:url';
import { Limits, Username } from '@outpost/shared-schema';
import { defaultPoolTimeouts, type PoolTimeouts } from '@outpost/storage';
import { RateLimits } from './rateLimiter.ts';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres:// URL, or undefined for embedded SQLite under dataDir. */
  databaseUrl: string | undefined;
  /** Deadlines on every wait for Postgres (unused with SQLite). */
  postgres: PoolTimeouts;
  /** How long a starting node waits for a Postgres that does not answer before it gives up (0: not at all). */
  databaseStartWaitMs: number;
  /** Sync answers larger than this go to the device in pieces of about this size (slow links). */
  syncPieceBytes: number;
  /** What one socket may leave unread in the node's memory: its requests wait past `pauseBytes`, it is closed past `maxBytes`. */
  socketSend: { pauseBytes: number; maxBytes: number };
  redisUrl: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Base64 of a 32-byte HMAC key; when unset, one is generated and kept under dataDir. */
  signingKey: string | undefined;
  issuer: string;
  audience: string;
  segmentSize: number;
  corsOrigins: string[];
  /**
   * Sign-in and sign-up attempts per client address per minute (also the burst). Raise it only
   * where many people share one address (a NAT, a load bench); per-username limits stay.
   */
  authAttemptsPerAddress: number;
  /**
   * Proxies (addresses, CIDR ranges, or `loopback`, `linklocal`, `uniquelocal`) whose
   * X-Forwarded-For is believed: behind them the client's address is the last one they did not
   * add themselves. Empty: the peer's address is the client's.
   */
  trustProxy: string[];
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The built web app to serve at /; served only when it holds an index.html. */
  webDir: string;
  /** Certificate and key (PEM) to serve HTTPS and WSS directly; undefined: plain HTTP. */
  tls: { cert: Buffer; key: Buffer } | undefined;
  /** Attached files: size, quota, pace and image limits. */
  files: FileLimits;
  /** Usernames that are server administrators besides the first account created (ADMIN_USERS). */
  adminUsers: string[];
  /** How long an administrator's password reset code works (PASSWORD_RESET_TTL, seconds). */
  passwordResetTtlSeconds: number;
  /** Where people reach the web app (PUBLIC_URL), for links such as password resets; else the request's origin. */
  publicUrl: string | undefined;
  /** Who may read GET /metrics; off unless a token or a separate bind is set. */
  metrics: MetricsAccess;
  /** OpenTelemetry traces: exported over OTLP/HTTP when an endpoint is set; undefined: off (the SDK is not loaded). */
  tracing: { endpoint: string; serviceName: string } | undefined;
}

/**
 * GET /metrics is never public by default. With `port`, a second listener on `host:port` serves
 * it (and nothing else), so it can stay on a private interface; with `token`, scrapers send
 * `Authorization: Bearer <token>` (on the main port, or on the metrics port too when both are set).
 */
export interface MetricsAccess {
  /** METRICS_TOKEN: the bearer token a scraper must send; undefined: none asked. */
  token: string | undefined;
  /** METRICS_HOST: interface of the metrics listener (127.0.0.1). */
  host: string;
  /** METRICS_PORT: port of a separate metrics listener; undefined: none. */
  port: number | undefined;
}

export interface FileLimits {
  /** Bytes of one uploaded file (FILES_MAX_BYTES). */
  maxBytes: number;
  /** Bytes of files one user may keep stored (FILES_QUOTA_BYTES). */
  quotaBytes: number;
  /** Uploads one user may start per minute, also the burst (FILES_UPLOADS_PER_MINUTE). */
  uploadsPerMinute: number;
  /** Pixels of one image (all frames); a larger one is refused as a decompression bomb (FILES_MAX_IMAGE_PIXELS). */
  maxImagePixels: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key}=${JSON.stringify(raw)} is not valid: expected an integer from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, key: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${key}=${JSON.stringify(raw)} is not valid: expected one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function url(env: Env, key: string, protocols: readonly string[]): string | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch (error) {
    throw new ConfigError(`${key} is not a valid URL (${(error as Error).message})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${key} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

function postgresTimeouts(env: Env): PoolTimeouts {
  const statementTimeoutMs = integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', defaultPoolTimeouts.statementTimeoutMs, 100, DAY_MS);
  // By default the driver waits as much longer than the server as it does by default in storage.
  const queryDefault = statementTimeoutMs + (defaultPoolTimeouts.queryTimeoutMs - defaultPoolTimeouts.statementTimeoutMs);
  const queryTimeoutMs = integer(env, 'DATABASE_QUERY_TIMEOUT_MS', queryDefault, 100, DAY_MS);
  if (queryTimeoutMs <= statementTimeoutMs) {
    throw new ConfigError(
      `DATABASE_QUERY_TIMEOUT_MS=${queryTimeoutMs} is not valid: it must exceed DATABASE_STATEMENT_TIMEOUT_MS (${statementTimeoutMs}), ` +
        'so that Postgres cancels a slow statement before the driver drops its connection',
    );
  }
  return {
    connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', defaultPoolTimeouts.connectTimeoutMs, 100, 10 * MINUTE_MS),
    statementTimeoutMs,
    queryTimeoutMs,
    idleInTransactionTimeoutMs: integer(env, 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', defaultPoolTimeouts.idleInTransactionTimeoutMs, 100, DAY_MS),
    keepAliveDelayMs: integer(env, 'DATABASE_KEEPALIVE_DELAY_MS', defaultPoolTimeouts.keepAliveDelayMs, 1_000, 120 * MINUTE_MS),
  };
}

function pemFile(env: Env, key: string, marker: RegExp): Buffer {
  const file = path.resolve(env[key] as string);
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${key}=${JSON.stringify(env[key])} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!marker.test(content.toString('latin1'))) throw new ConfigError(`${key}=${JSON.stringify(env[key])} is not a PEM file of the expected kind`);
  return content;
}

/** TLS_CERT and TLS_KEY come together or not at all. */
function tls(env: Env): Config['tls'] {
  const cert = env.TLS_CERT || undefined;
  const key = env.TLS_KEY || undefined;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new ConfigError(`${cert ? 'TLS_KEY' : 'TLS_CERT'} is missing: TLS_CERT and TLS_KEY are set together`);
  return { cert: pemFile(env, 'TLS_CERT', /-----BEGIN CERTIFICATE-----/), key: pemFile(env, 'TLS_KEY', /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/) };
}

/** Parses the settings listed in `.env.example`. */
export function loadConfig(env: Env = process.env): Config {
  const signingKey = env.OUTPOST_SIGNING_KEY || undefined;
  if (signingKey !== undefined && Buffer.from(signingKey, 'base64').length < 32) {
    throw new ConfigError('OUTPOST_SIGNING_KEY must be the base64 of at least 32 random bytes');
  }
  const accessTokenTtlSeconds = integer(env, 'ACCESS_TOKEN_TTL', 900, 10, 86_400);
  const refreshTokenTtlSeconds = integer(env, 'REFRESH_TOKEN_TTL', 30 * 86_400, 60, 365 * 86_400);
  // A device whose refresh token ran out while its access token lasted would be refused as
  // signed out (and drop its data) instead of asked to sign in again.
  if (refreshTokenTtlSeconds < accessTokenTtlSeconds) {
    throw new ConfigError(`REFRESH_TOKEN_TTL=${refreshTokenTtlSeconds} is shorter than ACCESS_TOKEN_TTL=${accessTokenTtlSeconds}: a session must outlast its access tokens`);
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    postgres: postgresTimeouts(env),
    databaseStartWaitMs: integer(env, 'DATABASE_START_WAIT_MS', MINUTE_MS, 0, DAY_MS),
    syncPieceBytes: integer(env, 'SYNC_PIECE_BYTES', 16 * 1024, 256, 16 * 1024 * 1024),
    socketSend: socketSend(env),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    signingKey,
    issuer: env.JWT_ISSUER || 'outpost',
    audience: env.JWT_AUDIENCE || 'outpost',
    segmentSize: integer(env, 'SEGMENT_SIZE', Limits.segmentSize, 2, 100_000),
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    authAttemptsPerAddress: integer(env, 'AUTH_ATTEMPTS_PER_ADDRESS', RateLimits.authPerAddress.capacity, 1, 1_000_000),
    trustProxy: trustProxy(env),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error', 'silent'] as const),
    webDir: path.resolve(env.WEB_DIR || fileURLToPath(new URL('../../web/dist', import.meta.url))),
    tls: tls(env),
    files: {
      maxBytes: integer(env, 'FILES_MAX_BYTES', Limits.fileBytes, 1, 2 ** 40),
      quotaBytes: integer(env, 'FILES_QUOTA_BYTES', 2 * 1024 ** 3, 1, 2 ** 50),
      uploadsPerMinute: integer(env, 'FILES_UPLOADS_PER_MINUTE', 60, 1, 1_000_000),
      maxImagePixels: integer(env, 'FILES_MAX_IMAGE_PIXELS', 100_000_000, 1, 2 ** 40),
    },
    adminUsers: adminUsers(env),
    passwordResetTtlSeconds: integer(env, 'PASSWORD_RESET_TTL', 86_400, 60, 30 * 86_400),
    publicUrl: url(env, 'PUBLIC_URL', ['http:', 'https:'])?.replace(/\/$/, ''),
    metrics: metricsAccess(env),
    tracing: tracing(env),
  };
}

function tracing(env: Env): Config['tracing'] {
  const endpoint = url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']);
  return endpoint === undefined ? undefined : { endpoint, serviceName: env.OTEL_SERVICE_NAME || 'outpost' };
}

function socketSend(env: Env): Config['socketSend'] {
  const pauseBytes = integer(env, 'SOCKET_SEND_PAUSE_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024);
  const maxBytes = integer(env, 'SOCKET_SEND_MAX_BYTES', 64 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024);
  if (maxBytes < pauseBytes) throw new ConfigError(`SOCKET_SEND_MAX_BYTES (${maxBytes}) must be at least SOCKET_SEND_PAUSE_BYTES (${pauseBytes})`);
  return { pauseBytes, maxBytes };
}

function metricsAccess(env: Env): MetricsAccess {
  const token = env.METRICS_TOKEN || undefined;
  if (token !== undefined && (token.length < 16 || /\s/.test(token))) {
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters without spaces (e.g. openssl rand -hex 24)');
  }
  const port = env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 0, 65535) : undefined;
  return { token, host: env.METRICS_HOST || '127.0.0.1', port };
}

function adminUsers(env: Env): string[] {
  const names = (env.ADMIN_USERS ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = names.filter((name) => !Username.safeParse(name).success);
  if (bad.length > 0) throw new ConfigError(`ADMIN_USERS must be a comma-separated list of usernames; not valid: ${bad.join(', ')}`);
  return names;
}

function trustProxy(env: Record<string, string | undefined>): string[] {
  const list = (env.TRUST_PROXY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  try {
    proxyaddr.compile(list);
  } catch (error) {
    throw new ConfigError(`TRUST_PROXY must list addresses, CIDR ranges or loopback/linklocal/uniquelocal (${(error as Error).message})`);
  }
  return list;
}
