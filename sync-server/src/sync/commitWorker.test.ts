// The node's SQLite workers on a real file: commits run on one thread, and new messages reach
// the full-text index on the other, within a second or so, without anyone searching.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { SqliteStorage } from '@outpost/storage';
import { sqliteCommitTarget } from './commitWorker.ts';

let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the SQLite commit and compaction workers', () => {
  it('index committed messages for search on their own within a second or so, and at once when asked', async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-commit-worker-'));
    const file = join(dir, 'outpost.db');
    const ada = 'a0000000-0000-4000-8000-000000000001' as UserId;
    const group = '0a000000-0000-4000-8000-000000000000' as ConversationId;
    const setup = new SqliteStorage(file);
    await setup.migrate();
    await setup.accounts.createUser({ id: ada, username: 'ada', displayName: 'ada', passwordHash: 'x', createdAt: 1 });
    await setup.conversations.createConversation({ id: group, kind: 'group', title: 'crew', createdBy: ada, createdAt: 1, members: [{ userId: ada, role: 'owner' }] });
    await setup.close();

    const failures: unknown[] = [];
    const target = sqliteCommitTarget(file, (error) => failures.push(error));
    const raw = new Database(file, { readonly: true });
    try {
      const message = (body: string) => ({ id: randomUUID() as MessageId, segment: 0, author: ada, createdAt: 2, body });
      const results = await target.commit(
        [
          { doc: `conv:${group}:seg:0`, base: 0, update: null, messages: { conversationId: group, segmentSize: 1_000, list: [message('basalt ridge'), message('obsidian ridge')] } },
          { doc: `user:${ada}`, base: 0, update: null },
        ],
        Date.now(),
      );
      expect(results.map((result) => result.outcome.ok)).toEqual([true, true]);
      const queued = () => (raw.prepare('SELECT count(*) AS n FROM message_search_pending').get() as { n: number }).n;
      const indexed = () => raw.prepare("SELECT rowid FROM message_search WHERE message_search MATCH 'ridge'").all().length;
      expect(queued()).toBe(2);
      // Nobody searches: the compaction worker takes the queue on its next turn (every second).
      const deadline = Date.now() + 10_000;
      while (queued() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(failures).toEqual([]);
      expect(queued()).toBe(0);
      expect(indexed()).toBe(2);

      // Asked before a search, the worker has indexed everything committed before the question.
      await target.commit([{ doc: `conv:${group}:seg:0`, base: 1, update: null, messages: { conversationId: group, segmentSize: 1_000, list: [message('granite ridge')] } }], Date.now());
      await target.indexSearch();
      expect(queued()).toBe(0);
      expect(indexed()).toBe(3);
    } finally {
      raw.close();
      await target.close();
    }
  });
});
