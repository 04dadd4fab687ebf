import { describe, expect, it } from 'vitest';
import { checkRecords } from './checkRecords.ts';
import type { Records } from './commands.ts';

function records(messages: { seq: number | null; delivered?: boolean; acknowledged?: boolean }[], extra: Partial<Records> = {}): Records {
  return {
    groups: [{ id: 'g', messages: messages.map((m, i) => ({ id: `m${i}`, seq: m.seq, delivered: m.delivered ?? true, acknowledged: m.acknowledged ?? true })) }],
    duplicates: 0,
    seqConflicts: 0,
    strays: 0,
    refusals: 0,
    firstRefusals: [],
    ...extra,
  };
}

describe('checkRecords', () => {
  it('passes messages numbered 1..N in any arrival order, each delivered and acknowledged once', () => {
    expect(checkRecords([records([{ seq: 2 }, { seq: 1 }, { seq: 3 }])], true)).toEqual({ messages: 3, problems: [] });
  });

  it('finds a gap, a number given twice and a message never numbered', () => {
    expect(checkRecords([records([{ seq: 1 }, { seq: 3 }])], true).problems).toEqual(['group g: number 3 is outside 1..2']);
    expect(checkRecords([records([{ seq: 1 }, { seq: 1 }])], true).problems).toEqual(['group g: number 1 was given twice']);
    expect(checkRecords([records([{ seq: 1 }, { seq: null, acknowledged: false }])], true).problems).toEqual(['1 messages were never acknowledged']);
  });

  it('finds lost and duplicated deliveries, and two numbers for one message', () => {
    const problems = checkRecords([records([{ seq: null, delivered: false }], { duplicates: 2, seqConflicts: 1, strays: 1 })], false).problems;
    expect(problems).toEqual([
      '2 messages delivered twice to the same member',
      '1 messages acknowledged with two different numbers',
      '1 deliveries of messages nobody in that group sent',
      '1 messages never reached every other member',
    ]);
  });
});
