// A database from before search (schema version 7 or older) with messages in it, and what
// migration 8 must make of it: every message there was is found by its current words and its
// files' names, and deleted ones are not. Each backend's test inserts these rows with its own
// driver, migrates and hands the storage to `expectBackfilled`.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { UserId } from '@outpost/shared-schema';
import type { Storage } from '../Storage.ts';

export interface OldSearchRows {
  /** Rows in an order that satisfies the foreign keys. */
  rows: { table: string; values: Record<string, string | number | null> }[];
  alice: UserId;
  messages: { plain: string; edited: string; deleted: string; withFile: string };
}

const T = 1_700_000_000_000;

export function beforeSearchRows(): OldSearchRows {
  const alice = randomUUID() as UserId;
  const conversation = randomUUID();
  const [plain, edited, deleted, withFile] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const message = (id: string, seq: number, body: string, extra: Record<string, string | number | null> = {}) => ({
    table: 'messages',
    values: { conversation_id: conversation, id, seq, segment: 0, author: alice, created_at: T + seq, received_at: T + seq, body, reply_to: null, edited_at: null, deleted_at: null, edited_body: null, ...extra },
  });
  return {
    alice,
    messages: { plain, edited, deleted, withFile },
    rows: [
      { table: 'users', values: { id: alice, username: 'alice', display_name: 'Alice', password_hash: 'x', created_at: T } },
      { table: 'conversations', values: { id: conversation, kind: 'group', title: 'old', created_by: alice, created_at: T, head: 0, last_seq: 4, dm_key: null, head_count: 4 } },
      { table: 'members', values: { conversation_id: conversation, user_id: alice, role: 'owner', joined_at: T } },
      message(plain, 1, 'boiler pressure is fine'),
      message(edited, 2, 'boiler first words', { edited_body: 'chimney swept', edited_at: T + 10 }),
      message(deleted, 3, '', { deleted_at: T + 11 }),
      message(withFile, 4, 'see attached'),
      {
        table: 'files',
        values: {
          id: randomUUID(), conversation_id: conversation, uploader: alice, name: 'boiler-manual.pdf', type: 'application/pdf', size: 3,
          width: null, height: null, placeholder: null, original_key: 'a'.repeat(64), display_key: null, thumb_key: null, created_at: T, message_id: withFile,
        },
      },
    ],
  };
}

export async function expectBackfilled(storage: Storage, old: OldSearchRows): Promise<void> {
  const find = async (text: string) => new Set((await storage.search.search({ userId: old.alice, text, offset: 0, limit: 20 })).hits.map((hit) => hit.messageId as string));
  expect(await find('boiler')).toEqual(new Set([old.messages.plain, old.messages.withFile]));
  expect(await find('manual')).toEqual(new Set([old.messages.withFile]));
  expect(await find('chimney')).toEqual(new Set([old.messages.edited]));
  expect(await find('first')).toEqual(new Set());
  expect(await find('see')).toEqual(new Set([old.messages.withFile]));
}
