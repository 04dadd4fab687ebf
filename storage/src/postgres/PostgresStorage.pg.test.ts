// Runs the storage contract on a real, throwaway Postgres server: every test gets a new empty
// schema on it, and "another node" is a second PostgresStorage with its own pool.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { segmentDoc, userDoc } from '@outpost/shared-schema';
import { postgresMigrations, postgresMigrationsTable } from '../migrations/postgres.ts';
import { openStorage } from '../openStorage.ts';
import { RANKED_WINDOW } from '../Search.ts';
import type { SearchQuery, StoredDocument } from '../Storage.ts';
import { accepted, commitOne, createGroup, createUsers, newMessage, NOW, numberingWrite, versionOf } from '../testing/contract/context.ts';
import { expectMigrated, version2Database, type OldValue, type Version2Database } from '../testing/migration3.ts';
import { searchContract } from '../testing/contract/search.ts';
import { beforeSearchRows, expectBackfilled } from '../testing/searchBackfill.ts';
import { startPostgres, type PostgresServer } from '../testing/postgresServer.ts';
import { storageContract } from '../testing/storageContract.ts';
import { PostgresStorage } from './PostgresStorage.ts';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server.stop();
});

let schemas = 0;

/**
 * A URL whose connections see only a new, empty schema: as good as a fresh database for the
 * storage (which names no schema), and ten times faster to make than CREATE DATABASE.
 */
async function freshSchema(): Promise<string> {
  schemas += 1;
  const schema = `contract_${schemas}`;
  const admin = new pg.Client(server.url);
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

storageContract('Postgres', async () => {
  const url = await freshSchema();
  return {
    storage: new PostgresStorage(url),
    second: async () => new PostgresStorage(url),
    // The whole server, with every schema, is deleted in afterAll.
    cleanup: async () => undefined,
  };
});


describe('the audit log on Postgres', () => {
  it('refuses to change, remove or truncate an event, even through raw SQL', async () => {
    const url = await server.createDatabase();
    const storage = await openStorage({ databaseUrl: url, dataDir: '/nonexistent/unused' });
    const raw = new pg.Client(url);
    await raw.connect();
    try {
      const id = await storage.audit.append({ at: 1, kind: 'signIn.failed', actor: null, subject: null, details: { username: 'mallory' } });
      await expect(raw.query("UPDATE audit_events SET kind = 'signIn.succeeded' WHERE id = $1", [id])).rejects.toThrow(/append-only/);
      await expect(raw.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
      await expect(raw.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
      expect((await storage.audit.list({ limit: 5 })).map((e) => e.kind)).toEqual(['signIn.failed']);
    } finally {
      await raw.end();
      await storage.close();
    }
  });
});

describe('openStorage with a Postgres URL', () => {
  it('opens Postgres, migrated, and reads back BIGINT versions as numbers', async () => {
    const storage = await openStorage({ databaseUrl: await server.createDatabase(), dataDir: '/nonexistent/unused' });
    try {
      expect(storage).toBeInstanceOf(PostgresStorage);
      const outcomes = await storage.log.commit(
        [
          { doc: 'doc', base: 0, entry: new Uint8Array([1]) },
          { doc: 'doc', base: 1, entry: new Uint8Array([2]) },
        ],
        Date.now(),
      );
      expect(outcomes.map((outcome) => outcome.ok && outcome.version)).toEqual([1, 2]);
      expect(await storage.log.load('doc')).toMatchObject({ baseVersion: 0, version: 2, entries: [{ version: 1 }, { version: 2 }] });
    } finally {
      await storage.close();
    }
  });
});

describe('a Postgres server that crashes', () => {
  it('keeps every acknowledged commit across kill -9 and restart', async () => {
    // The crash drops the pool's idle connections; that is expected here, not worth a warning.
    const dropped: Error[] = [];
    const storage = new PostgresStorage(await server.createDatabase(), { onIdleError: (error) => dropped.push(error) });
    await storage.migrate();
    const updates = Array.from({ length: 20 }, (_, index) => new Uint8Array([index]));
    try {
      for (const [index, update] of updates.entries()) accepted(await commitOne(storage.log, { doc: 'doc', base: index, entry: update }));
      await server.kill();
      await expect(storage.log.countEntries('doc')).rejects.toThrow();
      await server.restart();
      expect((await storage.log.load('doc')).entries).toEqual(updates.map((update, index) => ({ version: index + 1, update })));
    } finally {
      await storage.close();
    }
  });
});

/** Lock requests that wait, on `relation` or on anything. */
async function waiters(client: pg.Client, relation?: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    relation === undefined
      ? 'SELECT count(*) AS n FROM pg_locks WHERE NOT granted'
      : 'SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND relation = $1::regclass',
    relation === undefined ? [] : [relation],
  );
  return Number(rows[0]?.n);
}

const WAIT_DEADLINE_MS = 30_000;

/** Polls until `done` holds, failing after a deadline instead of hanging. */
async function until(what: string, done: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A raw connection that holds `mode` on `table` until released, so a real commit of the storage
 * stalls inside its transaction at the statement that needs the table.
 */
async function holdLock(url: string, table: string, mode: string): Promise<{ client: pg.Client; release: () => Promise<void> }> {
  const client = new pg.Client(url);
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ${mode} MODE`);
  let released = false;
  return {
    client,
    release: async () => {
      if (released) return;
      released = true;
      await client.query('COMMIT');
      await client.end();
    },
  };
}

function contents(stored: StoredDocument): string[] {
  const doc = new Y.Doc();
  if (stored.base) Y.applyUpdate(doc, stored.base);
  for (const entry of stored.entries) Y.applyUpdate(doc, entry.update);
  return Object.keys(doc.getMap('messages').toJSON()).sort();
}

function edits(count: number, prefix: string): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  for (let index = 0; index < count; index++) doc.getMap('messages').set(`${prefix}${index}`, index);
  return updates;
}

describe('commits and compaction on Postgres, interleaved for real', () => {
  it('keeps an entry whose commit is still in flight while another node compacts', async () => {
    const url = await freshSchema();
    const storage = new PostgresStorage(url);
    const other = new PostgresStorage(url);
    await storage.migrate();
    const [alice] = await createUsers(storage, 'alice');
    const updates = edits(6, 'a');
    for (const [index, update] of updates.slice(0, 5).entries()) accepted(await commitOne(storage.log, { doc: 'doc', base: index, entry: update }));
    const lock = await holdLock(url, 'doc_clients', 'EXCLUSIVE');
    try {
      // Another node commits version 6 and stalls before COMMIT, at the claim of its client id.
      const inFlight = other.log.commit([{ doc: 'doc', base: 5, entry: updates[5]!, clients: { userId: alice!.id, ids: [1] } }], NOW);
      await until('the commit to stall', async () => (await waiters(lock.client, 'doc_clients')) === 1);

      // Compaction may finish on its own (and then must not have trimmed the stalled entry), or
      // wait for the stalled commit; either way the commit is let go once one of them happened.
      let compacted = false;
      const compaction = storage.log.compact('doc', (parts) => Y.mergeUpdates(parts)).finally(() => {
        compacted = true;
      });
      await until('compaction to finish or wait', async () => compacted || (await waiters(lock.client)) > 1);
      await lock.release();
      await compaction;
      expect(await inFlight).toEqual([{ ok: true, version: 6, numbers: [] }]);
      const stored = await storage.log.load('doc');
      expect(stored.version).toBe(6);
      expect(contents(stored)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    } finally {
      await lock.release();
      await other.close();
      await storage.close();
    }
  });

  it('keeps the newer base when an older compaction writes last', async () => {
    const url = await freshSchema();
    // One connection: once it is busy, this node's compaction cannot write its base.
    const slow = new PostgresStorage(url, { max: 1 });
    const storage = new PostgresStorage(url);
    await storage.migrate();
    const [alice] = await createUsers(storage, 'alice');
    const updates = edits(6, 'a');
    for (const [index, update] of updates.slice(0, 4).entries()) accepted(await commitOne(storage.log, { doc: 'doc', base: index, entry: update }));
    const lock = await holdLock(url, 'doc_clients', 'EXCLUSIVE');
    try {
      let stalled: Promise<unknown> | undefined;
      const compaction = slow.log.compact('doc', (parts) => {
        // Loaded versions 1..4. The slow node's only connection now goes to a commit that stalls.
        stalled ??= slow.log.commit([{ doc: 'other', base: 0, entry: new Uint8Array([1]), clients: { userId: alice!.id, ids: [1] } }], NOW);
        return Y.mergeUpdates(parts);
      });
      await until('the slow node to stall', async () => (await waiters(lock.client, 'doc_clients')) === 1);
      expect((await storage.log.load('doc')).baseVersion).toBe(0); // its base is not written yet

      // Meanwhile another node appends 5 and 6 and compacts them into a newer base.
      for (const [index, update] of updates.slice(4).entries()) accepted(await commitOne(storage.log, { doc: 'doc', base: 4 + index, entry: update }));
      await storage.log.compact('doc', (parts) => Y.mergeUpdates(parts));
      expect(await storage.log.load('doc')).toMatchObject({ baseVersion: 6, entries: [] });

      await lock.release();
      await stalled;
      await compaction; // writes its base of version 4 last
      const stored = await storage.log.load('doc');
      expect(stored).toMatchObject({ baseVersion: 6, entries: [], version: 6 });
      expect(contents(stored)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    } finally {
      await lock.release();
      await slow.close();
      await storage.close();
    }
  });

  it('commits batches that number one conversation and read another from two nodes at once', async () => {
    const url = await freshSchema();
    const storage = new PostgresStorage(url);
    const other = new PostgresStorage(url);
    await storage.migrate();
    const [alice, bob] = await createUsers(storage, 'alice', 'bob');
    const [one, two] = [await createGroup(storage, alice!, [bob!]), await createGroup(storage, alice!, [bob!])];
    for (const group of [one, two]) accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [newMessage(alice!)])));
    // Both batches stall at their message insert, each holding its own conversation; then both
    // record a read position in the other's conversation.
    const lock = await holdLock(url, 'messages', 'SHARE');
    try {
      const batches = [
        storage.log.commit(
          [
            numberingWrite(one.id, 1, [newMessage(alice!)]),
            { doc: userDoc(alice!.id), base: 0, entry: new Uint8Array([1]), reads: [{ conversationId: two.id, userId: alice!.id, seq: 1 }] },
          ],
          NOW,
        ),
        other.log.commit(
          [
            numberingWrite(two.id, 1, [newMessage(bob!)]),
            { doc: userDoc(bob!.id), base: 0, entry: new Uint8Array([2]), reads: [{ conversationId: one.id, userId: bob!.id, seq: 1 }] },
          ],
          NOW,
        ),
      ];
      await until('both batches to stall', async () => (await waiters(lock.client, 'messages')) === 2);
      await lock.release();
      const outcomes = await Promise.all(batches);
      expect(outcomes.flat().map((outcome) => outcome.ok)).toEqual([true, true, true, true]);
      expect(await storage.projection.getReadPositions(one.id)).toEqual(new Map([[bob!.id, 1]]));
      expect(await storage.projection.getReadPositions(two.id)).toEqual(new Map([[alice!.id, 1]]));
      expect((await storage.log.load(segmentDoc(one.id, 0))).version).toBe(2);
    } finally {
      await lock.release();
      await other.close();
      await storage.close();
    }
  });
});

/** Makes the database at `url` as schema version 2 left it (migrations 1 and 2 only), holding `old`'s rows. */
async function buildVersion2(url: string, old: Version2Database): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    await client.query(postgresMigrationsTable);
    for (const migration of postgresMigrations.filter((m) => m.version <= 2)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
    }
    const bind = (value: OldValue) => (value instanceof Uint8Array ? Buffer.from(value) : value);
    for (const { table, values } of old.rows) {
      const columns = Object.keys(values);
      await client.query(
        `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')})`,
        columns.map((column) => bind(values[column]!)),
      );
    }
  } finally {
    await client.end();
  }
}

describe('migration 3 on Postgres', () => {
  it('carries a version-2 database over to versioned logs, head counts and edits beside the body', async () => {
    const url = await freshSchema();
    const old = version2Database();
    await buildVersion2(url, old);
    const storage = new PostgresStorage(url);
    const raw = new pg.Client(url);
    await raw.connect();
    try {
      await storage.migrate();
      await expectMigrated(storage, old, async (conversationId, id) => {
        const { rows } = await raw.query<{ body: string; edited_body: string | null }>(
          'SELECT body, edited_body FROM messages WHERE conversation_id = $1 AND id = $2',
          [conversationId, id],
        );
        if (!rows[0]) throw new Error(`message ${id} is gone`);
        return rows[0];
      });
    } finally {
      await raw.end();
      await storage.close();
    }
  });
});

describe('search on Postgres, reading every word a few weeks at a time', () => {
  // The contract's searches find too few messages for the week-by-week reading of frequent words;
  // with the threshold at 0 every search takes that path.
  let opened: PostgresStorage[] = [];
  let url = '';
  const open = async () => {
    const storage = new PostgresStorage(url, { searchSliceAbove: 0 });
    opened.push(storage);
    await storage.migrate();
    return storage;
  };
  let current: PostgresStorage | undefined;
  beforeEach(async () => {
    url = await freshSchema();
    current = await open();
  });
  afterEach(async () => {
    for (const storage of opened) await storage.close();
    opened = [];
    current = undefined;
  });
  searchContract({
    storage: () => {
      if (!current) throw new Error('no storage outside a test');
      return current;
    },
    second: open,
  });
});

describe('search on Postgres over two years, week by week or all at once', () => {
  it('finds the same pages either way: the newest RANKED_WINDOW matches, every filter, a member who left', async () => {
    // Reading week by week must choose the same window as reading every match: matches spread
    // over two years (so every group of weeks is read, and then everything before), in two
    // conversations, one of which Bob leaves half-way.
    const url = await freshSchema();
    const weekly = new PostgresStorage(url, { searchSliceAbove: 0 });
    const whole = new PostgresStorage(url, { searchSliceAbove: Number.POSITIVE_INFINITY });
    try {
      await weekly.migrate();
      const [alice, bob] = await createUsers(weekly, 'alice', 'bob');
      const first = await createGroup(weekly, alice!, [bob!]);
      const second = await createGroup(weekly, bob!, [alice!]);
      const DAY = 24 * 3600 * 1000;
      let state = 7;
      const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
      // 40 commits a conversation, newest last, a few messages each, days apart at random.
      let at = NOW - 730 * DAY;
      for (let commit = 0; commit < 40; commit++) {
        at += Math.floor(random() * 36 * DAY);
        for (const group of [first, second]) {
          const list = Array.from({ length: 6 }, (_, i) => newMessage(i % 2 ? alice! : bob!, 0, `gauge reading ${commit} ${i}${i % 3 === 0 ? ' gauge' : ''}`));
          const write = numberingWrite(group.id, 0, list);
          accepted(await commitOne(weekly.log, { ...write, base: await versionOf(weekly.log, write.doc) }, at + (group === first ? 0 : 1)));
        }
        if (commit === 20) await weekly.conversations.removeMember(first.id, bob!.id, alice!.id, at + 2);
      }
      const filters: Partial<SearchQuery>[] = [{}, { conversationId: second.id }, { from: alice!.id }, { after: NOW - 300 * DAY }, { before: NOW - 200 * DAY }];
      for (const user of [alice!, bob!]) {
        for (const filter of filters) {
          for (let offset = 0; offset < RANKED_WINDOW + 20; offset += 60) {
            const query: SearchQuery = { userId: user.id, text: 'gauge', offset, limit: 60, ...filter };
            const expected = await whole.search.search(query);
            expect(await weekly.search.search(query), JSON.stringify({ user: user.username, filter, offset })).toEqual(expected);
          }
        }
      }
      // The window is full for Alice (480 matches), so paging ends at RANKED_WINDOW.
      expect((await weekly.search.search({ userId: alice!.id, text: 'gauge', offset: RANKED_WINDOW - 1, limit: 5 })).hits).toHaveLength(1);
    } finally {
      await weekly.close();
      await whole.close();
    }
  });
});

describe('migration 8 on Postgres', () => {
  it('indexes every message already there: current words, files, not the deleted', async () => {
    const url = await freshSchema();
    const old = beforeSearchRows();
    const raw = new pg.Client(url);
    await raw.connect();
    try {
      await raw.query(postgresMigrationsTable);
      for (const migration of postgresMigrations.filter((m) => m.version < 8)) {
        await raw.query(migration.sql);
        await raw.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
      }
      for (const { table, values } of old.rows) {
        const columns = Object.keys(values);
        await raw.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(values));
      }
    } finally {
      await raw.end();
    }
    const storage = new PostgresStorage(url);
    try {
      await storage.migrate();
      await expectBackfilled(storage, old);
    } finally {
      await storage.close();
    }
  });
});
