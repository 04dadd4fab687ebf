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

describe('a chain of writes to one document', () => {
  it('stops at a write the database refuses: those after it are stale, other writes go on', async () => {
    const { target, committed } = database('bad', '23505');
    const committer = new Committer(target, silent);
    const chain = {};
    const writes = ['good', 'bad', 'after'].map((doc) => committer.commit(request(doc), chain));
    const outcomes = await Promise.allSettled([...writes, committer.commit(request('other'))]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? 'rejected' : o.value.outcome.ok ? 'ok' : o.value.outcome.reason))).toEqual(['ok', 'rejected', 'stale', 'ok']);
    expect(committed).toEqual(['good', 'other']);
  });

  it('is never split between two batches', async () => {
    const batches: string[][] = [];
    const committer = new Committer(async (requests) => {
      batches.push(requests.map((r) => r.doc));
      return requests.map(() => ok);
    }, silent);
    // 510 single writes, then a chain of five: the batch limit (512) falls inside the chain.
    const singles = Array.from({ length: 510 }, (_, i) => committer.commit(request(`single-${i}`)));
    const chain = {};
    const chained = Array.from({ length: 5 }, (_, i) => committer.commit(request(`chain-${i}`), chain));
    await Promise.all([...singles, ...chained]);
    const holding = batches.filter((batch) => batch.some((doc) => doc.startsWith('chain-')));
    expect(holding).toHaveLength(1);
    expect(holding[0]?.filter((doc) => doc.startsWith('chain-'))).toEqual(['chain-0', 'chain-1', 'chain-2', 'chain-3', 'chain-4']);
  });
});
