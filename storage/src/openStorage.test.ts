// openStorage picks SQLite when no Postgres URL is given, under a data directory it creates.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, SQLITE_FILE } from './openStorage.ts';
import { SqliteStorage } from './sqlite/SqliteStorage.ts';

describe('openStorage', () => {
  let root: string | undefined;

  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it('opens a migrated SQLite file in a data directory it creates', async () => {
    root = await mkdtemp(join(tmpdir(), 'outpost-open-'));
    const dataDir = join(root, 'nested', 'data');
    const storage = await openStorage({ dataDir });
    try {
      expect(storage).toBeInstanceOf(SqliteStorage);
      expect(await storage.log.countEntries('doc')).toBe(0);
      expect((await stat(join(dataDir, SQLITE_FILE))).isFile()).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('refuses a database URL that is not a Postgres one instead of silently using SQLite', async () => {
    await expect(openStorage({ databaseUrl: 'mysql://db/outpost', dataDir: '/nonexistent' })).rejects.toThrow(/postgres/);
  });
});
