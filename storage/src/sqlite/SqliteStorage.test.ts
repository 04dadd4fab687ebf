// Runs the storage contract on SQLite files: every test gets a new file in a temp directory,
// and "another node" is a second SqliteStorage on the same file. Threads then check what one
// thread cannot: connections that really commit at once still number without gaps, and an
// older compaction that writes last leaves the newer base alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { segmentDoc, type ConversationId, type UserId } from '@outpost/shared-schema';
import { sqliteMigrations, sqliteMigrationsTable } from '../migrations/sqlite.ts';
import { scopeToken } from '../searchSyntax.ts';
import type { NumberedMessage } from '../Storage.ts';
import { searchContract } from '../testing/contract/search.ts';
import { accepted, commitOne, createGroup, createUsers, newMessage, numberingWrite } from '../testing/contract/context.ts';
import { expectMigrated, version2Database, type OldValue, type Version2Database } from '../testing/migration3.ts';
import { beforeSearchRows, expectBackfilled } from '../testing/searchBackfill.ts';
import { storageContract } from '../testing/storageContract.ts';
import type { CompactionJob } from './compactionWorker.ts';
import type { NumberingJob } from './numberingWorker.ts';
import { INDEX_BATCH } from './SqliteSearch.ts';
import { SqliteStorage } from './SqliteStorage.ts';

storageContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-'));
  const file = join(dir, 'outpost.db');
  return {
    storage: new SqliteStorage(file),
    second: async () => new SqliteStorage(file),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// The search contract again, with every search naming the user's conversations to the index (a
// test's few messages are otherwise always a large share of the server's, and the words walked).
describe('search naming the user\'s conversations to the index, on SQLite', () => {
  let dir: string;
  let opened: SqliteStorage[] = [];
  const open = () => {
    const storage = new SqliteStorage(join(dir, 'outpost.db'), { searchScopedBelowShare: Number.POSITIVE_INFINITY });
    opened.push(storage);
    return storage;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-'));
    await open().migrate();
  });
  afterEach(async () => {
    for (const storage of opened) await storage.close();
    opened = [];
    await rm(dir, { recursive: true, force: true });
  });
  searchContract({
    storage: () => opened[0]!,
    second: async () => {
      const other = open();
      await other.migrate();
      return other;
    },
  });
});

function runWorker(job: NumberingJob): Promise<NumberedMessage[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./numberingWorker.ts', import.meta.url), { workerData: job });
    let result: NumberedMessage[] | undefined;
    worker.once('message', (message: NumberedMessage[]) => {
      result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`numbering worker exited with ${code}`))));
  });
}

describe('SQLite with several connections at once', () => {
  let dir: string | undefined;

  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('numbers 1..N without gap or duplicate when threads commit overlapping batches', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-threads-'));
    const file = join(dir, 'outpost.db');
    const storage = new SqliteStorage(file);
    await storage.migrate();
    const [alice] = await createUsers(storage, 'alice');
    const group = await createGroup(storage, alice!);
    const messages = Array.from({ length: 300 }, () => newMessage(alice!));
    const windows = Array.from({ length: 60 }, (_, index) => messages.slice(index * 5, index * 5 + 5));
    // Every thread numbers every window, each starting at a different one, all at once.
    const ready = new SharedArrayBuffer(4);
    const jobs = [0, 1, 2].map((thread): NumberingJob => ({
      file,
      conversationId: group.id,
      batches: [...windows.slice(thread * 20), ...windows.slice(0, thread * 20)],
      ready,
      workers: 3,
    }));
    const results = (await Promise.all(jobs.map(runWorker))).flat();

    const seqById = new Map<string, number>();
    for (const numbered of results) {
      expect(seqById.get(numbered.id) ?? numbered.seq).toBe(numbered.seq);
      seqById.set(numbered.id, numbered.seq);
    }
    expect(seqById.size).toBe(300);
    expect([...seqById.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, index) => index + 1));
    expect((await storage.conversations.getConversation(group.id))?.lastSeq).toBe(300);
    expect((await storage.log.load(segmentDoc(group.id, 0))).version).toBe(180);
    await storage.close();
  });

  it('keeps the newer base when an older compaction writes last', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-threads-'));
    const file = join(dir, 'outpost.db');
    const storage = new SqliteStorage(file);
    await storage.migrate();
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on('update', (update: Uint8Array) => updates.push(update));
    for (let index = 0; index < 6; index++) source.getMap('messages').set(`a${index}`, index);
    for (const [index, update] of updates.slice(0, 4).entries()) accepted(await commitOne(storage.log, { doc: 'doc', base: index, entry: update }));

    const signals = new SharedArrayBuffer(8);
    const job: CompactionJob = { file, doc: 'doc', updates: updates.slice(4), signals };
    const worker = new Worker(new URL('./compactionWorker.ts', import.meta.url), { workerData: job });
    const exited = new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', resolve);
    });
    try {
      await storage.log.compact('doc', (parts) => {
        // Loaded versions 1..4. Before this base is written, another connection appends 5 and 6
        // and compacts them into a newer base.
        const flags = new Int32Array(signals);
        Atomics.store(flags, 0, 1);
        Atomics.notify(flags, 0);
        if (Atomics.wait(flags, 1, 0, 30_000) === 'timed-out') throw new Error('the compaction worker did not finish');
        return Y.mergeUpdates(parts);
      });
      expect(await exited).toBe(0);
      const stored = await storage.log.load('doc');
      expect(stored).toMatchObject({ baseVersion: 6, entries: [], version: 6 });
      const doc = new Y.Doc();
      Y.applyUpdate(doc, stored.base!);
      expect(doc.getMap('messages').toJSON()).toEqual(source.getMap('messages').toJSON());
    } finally {
      await worker.terminate();
      await storage.close();
    }
  });
});

/** Writes `file` as schema version 2 left it (migrations 1 and 2 only), holding `old`'s rows. */
function buildVersion2(file: string, old: Version2Database): void {
  const db = new Database(file);
  try {
    db.exec(sqliteMigrationsTable);
    for (const migration of sqliteMigrations.filter((m) => m.version <= 2)) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, Date.now());
    }
    const bind = (value: OldValue) => (value instanceof Uint8Array ? Buffer.from(value) : value);
    for (const { table, values } of old.rows) {
      const columns = Object.keys(values);
      db.prepare(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(
        ...columns.map((column) => bind(values[column]!)),
      );
    }
  } finally {
    db.close();
  }
}

describe('migration 3 on SQLite', () => {
  let dir: string | undefined;

  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('carries a version-2 database over to versioned logs, head counts and edits beside the body', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-v2-'));
    const file = join(dir, 'outpost.db');
    const old = version2Database();
    buildVersion2(file, old);
    const storage = new SqliteStorage(file);
    try {
      await storage.migrate();
      const raw = new Database(file, { readonly: true });
      try {
        await expectMigrated(storage, old, async (conversationId, id) => {
          const row = raw.prepare('SELECT body, edited_body FROM messages WHERE conversation_id = ? AND id = ?').get(conversationId, id);
          return row as { body: string; edited_body: string | null };
        });
      } finally {
        raw.close();
      }
    } finally {
      await storage.close();
    }
  });
});

/** A database at `file` with the migrations before `version` applied, holding `beforeSearchRows`' rows. */
function databaseBefore(file: string, version: number): { raw: Database.Database; old: ReturnType<typeof beforeSearchRows> } {
  const raw = new Database(file);
  raw.exec(sqliteMigrationsTable);
  for (const migration of sqliteMigrations.filter((m) => m.version < version)) {
    raw.exec(migration.sql);
    raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, Date.now());
  }
  const old = beforeSearchRows();
  for (const { table, values } of old.rows) {
    const columns = Object.keys(values);
    raw.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...Object.values(values));
  }
  return { raw, old };
}

describe('migration 8 on SQLite', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('indexes every message already there: current words, files, not the deleted', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-'));
    const file = join(dir, 'outpost.db');
    const { raw, old } = databaseBefore(file, 8);
    raw.close();
    const storage = new SqliteStorage(file);
    try {
      await storage.migrate();
      await expectBackfilled(storage, old);
    } finally {
      await storage.close();
    }
  });

  it('takes the words of a deleted message out of the index itself, not only its text (secure-delete)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-'));
    const file = join(dir, 'outpost.db');
    const storage = new SqliteStorage(file);
    try {
      await storage.migrate();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const message = newMessage(alice!, 0, 'zanzibar coordinates');
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [message])));
      expect(storage.search.indexPending()).toBe(1);
      const raw = new Database(file);
      // The index's own pages, as bytes: without secure-delete a deleted row's words stay in
      // them (hidden behind a delete marker) until segments happen to merge.
      const indexBytes = () => indexPages(raw);
      expect(indexBytes()).toContain('zanzibar');
      await storage.projection.applyMessageStates([{ conversationId: group.id, id: message.id, edit: null, deletedAt: Date.now() }]);
      expect(indexBytes()).not.toContain('zanzibar');
      expect(indexBytes()).not.toContain('coordinates');
      raw.close();
    } finally {
      await storage.close();
    }
  });
});

describe('migration 11 on SQLite: the index carries each message\'s conversation', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('indexes again what was indexed, leaves the queue to the indexer, and a search of either finds it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-'));
    const file = join(dir, 'outpost.db');
    const { raw, old } = databaseBefore(file, 11);
    // As migration 10's indexer did, for all but the message with a file, which stays queued.
    const queuedDoc = (raw.prepare('SELECT doc FROM message_search_rows WHERE message_id = ?').get(old.messages.withFile) as { doc: number }).doc;
    raw.prepare(
      `INSERT INTO message_search (rowid, body, files)
         SELECT r.doc, coalesce(m.edited_body, m.body), ''
         FROM message_search_pending p JOIN message_search_rows r ON r.doc = p.doc
         JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
         WHERE p.doc <> ? AND m.deleted_at IS NULL`,
    ).run(queuedDoc);
    raw.prepare('DELETE FROM message_search_pending WHERE doc <> ?').run(queuedDoc);
    const storage = new SqliteStorage(file);
    try {
      await storage.migrate();
      expect(raw.prepare('SELECT doc FROM message_search_pending').all()).toEqual([{ doc: queuedDoc }]);
      await expectBackfilled(storage, old);
      // Every row of the index now names its conversation.
      expect(raw.prepare("SELECT count(*) AS n FROM message_search WHERE scope IS NULL OR scope = ''").get()).toEqual({ n: 0 });
      expect((raw.prepare('SELECT count(*) AS n FROM message_search').get() as { n: number }).n).toBe(3);
    } finally {
      raw.close();
      await storage.close();
    }
  });

  it('finds a message by its words, never by its conversation\'s token, and only in the searcher\'s conversations', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-'));
    const storage = new SqliteStorage(join(dir, 'outpost.db'));
    try {
      await storage.migrate();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const hers = await createGroup(storage, alice!);
      const his = await createGroup(storage, bob!);
      accepted(await commitOne(storage.log, numberingWrite(hers.id, 0, [newMessage(alice!, 0, 'lantern oil delivered')])));
      // Alice sees 1 message in 41 (her search names her conversation to the index), Bob 40 (his walks the matches).
      const his40 = Array.from({ length: 40 }, (_, i) => newMessage(bob!, 0, `lantern wick trimmed ${i}`));
      accepted(await commitOne(storage.log, numberingWrite(his.id, 0, his40)));
      const texts = async (userId: UserId, text: string, conversationId?: ConversationId) =>
        (await storage.search.search({ userId, text, offset: 0, limit: 50, ...(conversationId ? { conversationId } : {}) })).hits.map((hit) =>
          hit.snippet.map((part) => part.text).join(''),
        );
      expect(await texts(alice!.id, 'lantern')).toEqual(['lantern oil delivered']);
      expect(await texts(alice!.id, 'wick')).toEqual([]);
      expect(await texts(alice!.id, 'lantern', his.id)).toEqual([]);
      expect(await texts(alice!.id, 'lantern', hers.id)).toEqual(['lantern oil delivered']);
      expect(await texts(bob!.id, 'lantern')).toHaveLength(40);
      expect(await texts(bob!.id, 'oil')).toEqual([]);
      for (const userId of [alice!.id, bob!.id]) {
        for (const group of [hers, his]) {
          const token = scopeToken(group.id);
          expect(await texts(userId, token)).toEqual([]);
          expect(await texts(userId, `lantern ${token}`)).toEqual([]);
        }
      }
    } finally {
      await storage.close();
    }
  });
});

/** The full-text index's own pages, as text: what words the index holds, whatever it answers. */
function indexPages(raw: Database.Database): string {
  return raw.prepare('SELECT block FROM message_search_data').all().map((row) => Buffer.from((row as { block: Uint8Array }).block).toString('latin1')).join('|');
}

describe('the full-text index queue on SQLite (migration 10)', () => {
  let dir: string;

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function opened(): Promise<{ storage: SqliteStorage; raw: Database.Database; queued: () => number }> {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-queue-'));
    const file = join(dir, 'outpost.db');
    const storage = new SqliteStorage(file);
    await storage.migrate();
    const raw = new Database(file);
    return { storage, raw, queued: () => (raw.prepare('SELECT count(*) AS n FROM message_search_pending').get() as { n: number }).n };
  }

  it('queues a new message instead of indexing it in its commit, and a search finds it at once', async () => {
    const { storage, raw, queued } = await opened();
    try {
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [newMessage(alice!, 0, 'quartz lanterns')])));
      expect(queued()).toBe(1);
      expect(indexPages(raw)).not.toContain('quartz');
      const found = await storage.search.search({ userId: alice!.id, text: 'quartz', offset: 0, limit: 10 });
      expect(found.hits.map((hit) => hit.snippet.map((part) => part.text).join(''))).toEqual(['quartz lanterns']);
      expect(queued()).toBe(0);
      expect(storage.search.indexPending()).toBe(0);
    } finally {
      raw.close();
      await storage.close();
    }
  });

  it('indexes a queued message as it is when its turn comes: edited, deleted or erased', async () => {
    const { storage, raw, queued } = await opened();
    try {
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const edited = newMessage(alice!, 0, 'original walrus');
      const deleted = newMessage(alice!, 0, 'deleted pelican');
      const erased = newMessage(alice!, 0, 'erased flamingo');
      const kept = newMessage(alice!, 0, 'kept heron');
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [edited, deleted, erased, kept])));
      await storage.projection.applyMessageStates([
        { conversationId: group.id, id: edited.id, edit: { body: 'edited walrus', editedAt: 1_700_000_003_000 }, deletedAt: null },
        { conversationId: group.id, id: deleted.id, edit: null, deletedAt: 1_700_000_003_000 },
      ]);
      raw.prepare('DELETE FROM messages WHERE conversation_id = ? AND id = ?').run(group.id, erased.id);
      // The edit indexed its message early; the queue still holds it, and the erased one is gone.
      expect(queued()).toBe(3);
      expect(storage.search.indexPending()).toBe(3);
      const pages = indexPages(raw);
      for (const word of ['edited', 'walrus', 'kept', 'heron']) expect(pages).toContain(word);
      for (const word of ['original', 'deleted', 'pelican', 'erased', 'flamingo']) expect(pages).not.toContain(word);
      const texts = async (text: string) => (await storage.search.search({ userId: alice!.id, text, offset: 0, limit: 10 })).hits.map((hit) => hit.messageId);
      expect(await texts('walrus')).toEqual([edited.id]);
      expect(await texts('heron')).toEqual([kept.id]);
      expect(await texts('pelican')).toEqual([]);
      expect(await texts('flamingo')).toEqual([]);
      expect(await texts('original')).toEqual([]);
    } finally {
      raw.close();
      await storage.close();
    }
  });

  it('takes a long queue in batches, each message once, and a search after them finds every one', async () => {
    const { storage, raw, queued } = await opened();
    try {
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const total = INDEX_BATCH + 300;
      const list = Array.from({ length: total }, (_, i) => newMessage(alice!, 0, `pebble number${i}`));
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, list)));
      expect(queued()).toBe(total);
      expect(storage.search.indexPending()).toBe(INDEX_BATCH);
      expect(queued()).toBe(300);
      accepted(await commitOne(storage.log, numberingWrite(group.id, 1, [newMessage(alice!, 0, 'pebble late')])));
      const page = await storage.search.search({ userId: alice!.id, text: 'pebble', offset: 0, limit: 5 });
      expect(page.hits).toHaveLength(5);
      expect(queued()).toBe(0);
      expect((raw.prepare('SELECT count(*) AS n FROM message_search').get() as { n: number }).n).toBe(total + 1);
      for (const i of [0, INDEX_BATCH - 1, INDEX_BATCH, total - 1]) {
        const hits = (await storage.search.search({ userId: alice!.id, text: `number${i}`, offset: 0, limit: 10 })).hits;
        expect(hits.map((hit) => hit.messageId)).toEqual([list[i]!.id]);
      }
    } finally {
      raw.close();
      await storage.close();
    }
  });
});

describe('the audit log on SQLite', () => {
  it('refuses to change or remove an event, even through raw SQL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outpost-sqlite-audit-'));
    const file = join(dir, 'outpost.db');
    const storage = new SqliteStorage(file);
    try {
      await storage.migrate();
      const id = await storage.audit.append({ at: 1, kind: 'signIn.failed', actor: null, subject: null, details: { username: 'mallory' } });
      const raw = new Database(file);
      try {
        expect(() => raw.prepare('UPDATE audit_events SET kind = ? WHERE id = ?').run('signIn.succeeded', id)).toThrow(/append-only/);
        expect(() => raw.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
      } finally {
        raw.close();
      }
      expect((await storage.audit.list({ limit: 5 })).map((e) => e.kind)).toEqual(['signIn.failed']);
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
