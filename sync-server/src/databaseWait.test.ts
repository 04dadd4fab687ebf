import { describe, expect, it } from 'vitest';
import type { Storage, StorageOptions } from '@outpost/storage';
import { DatabaseUnreachableError, databaseAdvice, databaseAway, openWhenReachable } from './databaseWait.ts';
import type { Logger } from './log.ts';

const POSTGRES: StorageOptions = { databaseUrl: 'postgres://outpost:secret@db.site:5433/outpost', dataDir: '/tmp/unused' };
const opened = { opened: true } as unknown as Storage;

function recording(): { log: Logger; warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const ignore = () => {};
  const log = { debug: ignore, info: ignore, error: ignore, warn: (_msg: string, fields?: Record<string, unknown>) => void warnings.push(fields ?? {}) } as unknown as Logger;
  return { log, warnings };
}

const away = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5433'), { code: 'ECONNREFUSED' });

describe('databaseAway', () => {
  it('tells "nobody answers" from "answered no"', () => {
    expect(databaseAway(away)).toBe(true);
    expect(databaseAway(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(databaseAway(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(databaseAway(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(databaseAway(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(false);
    expect(databaseAway(Object.assign(new Error('database "x" does not exist'), { code: '3D000' }))).toBe(false);
    expect(databaseAway(undefined)).toBe(false);
  });
});

describe('openWhenReachable', () => {
  it('tries again while the database does not answer, saying so, and opens once it does', async () => {
    const { log, warnings } = recording();
    let tries = 0;
    const storage = await openWhenReachable(
      async () => {
        tries += 1;
        if (tries < 3) throw away;
        return opened;
      },
      POSTGRES,
      log,
      10_000,
    );
    expect(storage).toBe(opened);
    expect(tries).toBe(3);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ database: 'db.site:5433', reason: 'ECONNREFUSED', retryInMs: 250 });
    expect(warnings[1]).toMatchObject({ retryInMs: 500 });
    // Never the user or password of the URL.
    expect(JSON.stringify(warnings)).not.toContain('secret');
  });

  it('gives up after the wait with an error that says where and why', async () => {
    const { log } = recording();
    const failure = await openWhenReachable(() => Promise.reject(away), POSTGRES, log, 600).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseUnreachableError);
    const advice = databaseAdvice(failure, POSTGRES.databaseUrl);
    expect(advice).toMatch(/^the database at db\.site:5433 did not answer for \d+ s \(ECONNREFUSED\): check DATABASE_URL/);
    expect(advice).toContain('DATABASE_START_WAIT_MS');
  });

  it('does not wait at all with a wait of 0, nor for an answer that is "no", nor on SQLite', async () => {
    const { log, warnings } = recording();
    let tries = 0;
    const failing = (error: unknown) => () => {
      tries += 1;
      return Promise.reject(error);
    };
    await expect(openWhenReachable(failing(away), POSTGRES, log, 0)).rejects.toBeInstanceOf(DatabaseUnreachableError);
    const refused = Object.assign(new Error('password authentication failed for user "outpost"'), { code: '28P01' });
    await expect(openWhenReachable(failing(refused), POSTGRES, log, 60_000)).rejects.toBe(refused);
    const disk = Object.assign(new Error('unable to open database file'), { code: 'ECONNRESET' });
    await expect(openWhenReachable(failing(disk), { dataDir: '/tmp/unused' }, log, 60_000)).rejects.toBe(disk);
    expect(tries).toBe(3);
    expect(warnings).toEqual([]);
    expect(databaseAdvice(refused, POSTGRES.databaseUrl)).toBe("the database at db.site:5433 refused the user or password in DATABASE_URL: correct them (or the server's pg_hba.conf)");
    expect(databaseAdvice(Object.assign(new Error('no'), { code: '3D000' }), POSTGRES.databaseUrl)).toMatch(/does not exist at db\.site:5433: create it/);
    expect(databaseAdvice(disk, undefined)).toBeNull();
  });
});
