// One suite of assertions that every Storage implementation must pass (SQLite and Postgres run
// the same one), so the server behaves the same whichever database a deployment picks.
import { describe, expect, it, afterEach, beforeEach } from 'vitest';
import type { Storage } from '../Storage.ts';
import { accountsContract } from './contract/accounts.ts';
import { administrationContract } from './contract/administration.ts';
import { auditContract } from './contract/audit.ts';
import { devicesContract } from './contract/devices.ts';
import { secondFactorsContract } from './contract/secondFactors.ts';
import { createUsers, type ContractContext } from './contract/context.ts';
import { conversationsContract } from './contract/conversations.ts';
import { filesContract } from './contract/files.ts';
import { privacyContract } from './contract/privacy.ts';
import { projectionContract } from './contract/projection.ts';
import { searchContract } from './contract/search.ts';
import { updateLogContract } from './contract/updateLog.ts';

/** A storage under test, made fresh for every test. */
export interface StorageFixture {
  /** A storage on a fresh, empty, NOT yet migrated database; the suite migrates it. */
  storage: Storage;
  /**
   * Opens another instance on the same database (a second node: another pool or connection).
   * Without it, concurrency tests run on the one instance.
   */
  second?: () => Promise<Storage>;
  /** Removes the database. Runs after the suite has closed every storage it was given. */
  cleanup: () => Promise<void>;
}

/**
 * Registers the storage contract as a vitest suite named `name`.
 *
 * @example
 * storageContract('SQLite', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'outpost-'));
 *   const file = join(dir, 'outpost.db');
 *   return {
 *     storage: new SqliteStorage(file),
 *     second: async () => new SqliteStorage(file),
 *     cleanup: () => rm(dir, { recursive: true }),
 *   };
 * });
 */
export function storageContract(name: string, makeStorage: () => Promise<StorageFixture>): void {
  describe(`Storage contract: ${name}`, () => {
    let fixture: StorageFixture | undefined;
    let opened: Storage[] = [];

    const current = (): StorageFixture => {
      if (!fixture) throw new Error('the storage fixture is used outside a test');
      return fixture;
    };
    const openSecond = async (): Promise<Storage> => {
      const { storage, second } = current();
      if (!second) return storage;
      const other = await second();
      opened.push(other);
      return other;
    };

    beforeEach(async () => {
      fixture = await makeStorage();
      opened = [fixture.storage];
    });

    afterEach(async () => {
      const done = fixture;
      fixture = undefined;
      for (const storage of opened) await storage.close();
      opened = [];
      await done?.cleanup();
    });

    describe('migrations', () => {
      it('migrate from two instances at once, then again as a no-op that keeps data', async () => {
        const { storage } = current();
        const second = await openSecond();
        await Promise.all([storage.migrate(), second.migrate()]);
        const [alice] = await createUsers(storage, 'alice');
        const entry = new Uint8Array([1, 2, 3]);
        await storage.log.commit([{ doc: 'user:alice', base: 0, entry }], Date.now());
        await Promise.all([storage.migrate(), second.migrate()]);
        await second.migrate();
        expect(await second.accounts.getUserById(alice!.id)).toEqual(alice);
        expect(await second.log.load('user:alice')).toMatchObject({ entries: [{ version: 1, update: entry }], version: 1 });
      });
    });

    describe('behaviour', () => {
      const context: ContractContext = {
        storage: () => current().storage,
        second: async () => {
          const other = await openSecond();
          await other.migrate();
          return other;
        },
      };

      beforeEach(async () => {
        await current().storage.migrate();
      });

      accountsContract(context);
      conversationsContract(context);
      updateLogContract(context);
      projectionContract(context);
      filesContract(context);
      privacyContract(context);
      auditContract(context);
      searchContract(context);
      administrationContract(context);
      devicesContract(context);
      secondFactorsContract(context);
    });
  });
}
