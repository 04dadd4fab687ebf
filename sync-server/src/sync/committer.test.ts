// Group commit and one bad write: the others of its batch are committed on their own, whatever
// the database said was wrong with its data; a database that is away fails the whole batch.
import { describe, expect, it } from 'vitest';
import type { CommitRequest, CommitResult } from './commitRequest.ts';
import { Committer, type CommitTarget } from './committer.ts';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
const request = (doc: string): CommitRequest => ({ doc, base: 0, update: null });
const ok: CommitResult = { outcome: { ok: true, version: 1, numbers: [] }, entry: null };

/** A database that refuses every batch holding `poison` with `code`, and records what it committed. */
function database(poison: string, code: string): { target: CommitTarget; committed: string[] } {
  const committed: string[] = [];
  const target: CommitTarget = async (requests) => {
    if (requests.some((r) => r.doc === poison)) throw Object.assign(new Error(`refused (${code})`), { code });
    committed.push(...requests.map((r) => r.doc));
    return requests.map(() => ok);
  };
  return { target, committed };
}

describe('a batch with one write the database refuses', () => {
  it.each([
    ['23505', 'a unique constraint (Postgres)'],
    ['22021', 'text with a NUL (Postgres)'],
    ['22003', 'a number out of range (Postgres)'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'a unique constraint (SQLite)'],
    ['SQLITE_TOOBIG', 'a value too big (SQLite)'],
  ])('%s, %s: the other writes are committed one by one', async (code) => {
    const { target, committed } = database('bad', code);
    const committer = new Committer(target, silent);
    const outcomes = await Promise.allSettled(['a', 'bad', 'b'].map((doc) => committer.commit(request(doc))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed).toEqual(['a', 'b']);
  });

  it('a database that is away fails every write of the batch (each is tried again later)', async () => {
    const { target, committed } = database('bad', 'ECONNREFUSED');
    const committer = new Committer(target, silent);
    const outcomes = await Promise.allSettled(['a', 'bad', 'b'].map((doc) => committer.commit(request(doc))));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(committed).toEqual([]);
  });
});
