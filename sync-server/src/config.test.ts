import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has working defaults: SQLite under ./data on port 3000', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.segmentSize).toBe(1000);
    expect(config.authAttemptsPerAddress).toBe(30);
    expect(config.files).toEqual({ maxBytes: 25 * 1024 * 1024, quotaBytes: 2 * 1024 ** 3, uploadsPerMinute: 60, maxImagePixels: 100_000_000 });
  });

  it('gives every wait on Postgres a deadline, the driver waiting longer than the server', () => {
    expect(loadConfig({}).postgres).toEqual({
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
      queryTimeoutMs: 35_000,
      idleInTransactionTimeoutMs: 60_000,
      keepAliveDelayMs: 10_000,
    });
    const slow = loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '120000' }).postgres;
    expect(slow.queryTimeoutMs).toBeGreaterThan(slow.statementTimeoutMs);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS="0" is not valid/);
    expect(() => loadConfig({ DATABASE_QUERY_TIMEOUT_MS: '1000' })).toThrow(/DATABASE_QUERY_TIMEOUT_MS=1000 is not valid: it must exceed/);
    expect(() => loadConfig({ DATABASE_KEEPALIVE_DELAY_MS: 'soon' })).toThrow(/DATABASE_KEEPALIVE_DELAY_MS/);
  });

  it('names the bad setting', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT="eighty" is not valid/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must start with postgres:/);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL: '1' })).toThrow(/ACCESS_TOKEN_TTL/);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL: '3600', REFRESH_TOKEN_TTL: '600' })).toThrow(/REFRESH_TOKEN_TTL=600 is shorter than ACCESS_TOKEN_TTL=3600/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ AUTH_ATTEMPTS_PER_ADDRESS: '0' })).toThrow(/AUTH_ATTEMPTS_PER_ADDRESS="0" is not valid/);
    expect(() => loadConfig({ OUTPOST_SIGNING_KEY: 'c2hvcnQ=' })).toThrow(/OUTPOST_SIGNING_KEY/);
    expect(() => loadConfig({ SOCKET_SEND_PAUSE_BYTES: '8388608', SOCKET_SEND_MAX_BYTES: '1048576' })).toThrow(/SOCKET_SEND_MAX_BYTES \(1048576\) must be at least SOCKET_SEND_PAUSE_BYTES/);
    expect(() => loadConfig({ FILES_MAX_BYTES: '25MB' })).toThrow(/FILES_MAX_BYTES="25MB" is not valid/);
    expect(() => loadConfig({ FILES_QUOTA_BYTES: '0' })).toThrow(/FILES_QUOTA_BYTES="0" is not valid/);
  });

  it('serves HTTPS only with both TLS_CERT and TLS_KEY, each a readable PEM file of its kind', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'outpost-config-'));
    try {
      const cert = path.join(dir, 'cert.pem');
      const key = path.join(dir, 'key.pem');
      writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
      expect(loadConfig({}).tls).toBeUndefined();
      expect(loadConfig({ TLS_CERT: cert, TLS_KEY: key }).tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
      expect(() => loadConfig({ TLS_CERT: cert })).toThrow(/TLS_KEY is missing/);
      expect(() => loadConfig({ TLS_KEY: key })).toThrow(/TLS_CERT is missing/);
      expect(() => loadConfig({ TLS_CERT: path.join(dir, 'nope.pem'), TLS_KEY: key })).toThrow(/TLS_CERT=.*cannot be read \(ENOENT\)/);
      expect(() => loadConfig({ TLS_CERT: key, TLS_KEY: key })).toThrow(/TLS_CERT=.*not a PEM file/);
      expect(() => loadConfig({ TLS_CERT: cert, TLS_KEY: cert })).toThrow(/TLS_KEY=.*not a PEM file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps /metrics closed by default; a token must be long, a metrics port valid', () => {
    expect(loadConfig({}).metrics).toEqual({ token: undefined, host: '127.0.0.1', port: undefined });
    expect(loadConfig({ METRICS_TOKEN: 'a'.repeat(16), METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' }).metrics).toEqual({ token: 'a'.repeat(16), host: '10.0.0.5', port: 9464 });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ METRICS_PORT: 'x' })).toThrow(/METRICS_PORT="x" is not valid/);
  });

  it('turns tracing on only with an http(s) OTLP endpoint', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toEqual({ endpoint: 'http://collector:4318', serviceName: 'outpost' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'outpost-eu' }).tracing?.serviceName).toBe('outpost-eu');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must start with http:\/\/ or https:\/\//);
  });
});
