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
  });

  it('names the bad setting', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT="eighty" is not valid/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must start with postgres:/);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL: '1' })).toThrow(/ACCESS_TOKEN_TTL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ AUTH_ATTEMPTS_PER_ADDRESS: '0' })).toThrow(/AUTH_ATTEMPTS_PER_ADDRESS="0" is not valid/);
    expect(() => loadConfig({ OUTPOST_SIGNING_KEY: 'c2hvcnQ=' })).toThrow(/OUTPOST_SIGNING_KEY/);
  });
});
