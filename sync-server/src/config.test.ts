import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has working defaults: SQLite under ./data on port 3000', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.segmentSize).toBe(1000);
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
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ OUTPOST_SIGNING_KEY: 'c2hvcnQ=' })).toThrow(/OUTPOST_SIGNING_KEY/);
  });
});
