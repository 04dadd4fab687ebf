// The timeline follows segment documents change by change: order by number then creation time,
// edits, reactions, deletions and numbering land on the one message they touch, and every other
// message keeps its item (nothing else is read again).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { removeReaction, segmentMaps, writeDeletion, writeEdit, writeMessage, writeReaction, type MessageId, type UserId } from '@outpost/shared-schema';
import { Timeline } from './Timeline.ts';
import { MessageWindow } from './MessageWindow.ts';
import { compareMessages, type MessageItem } from './messageOrder.ts';

const ada = '00000000-0000-4000-8000-0000000000aa' as UserId;
const bob = '00000000-0000-4000-8000-0000000000bb' as UserId;
const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` as MessageId;

function timeline() {
  let changes = 0;
  const t = new Timeline((n, seq, view) => ({ ...view, seq, status: seq === null ? 'pending' : 'sent', segment: n, mine: view.author === ada }), () => (changes += 1));
  return { t, changes: () => changes };
}

describe('Timeline', () => {
  it('keeps 10,000 messages in two segments in order and updates only the message a change touches', () => {
    const { t, changes } = timeline();
    const docs = [new Y.Doc(), new Y.Doc()];
    docs.forEach((doc, s) =>
      doc.transact(() => {
        for (let i = 0; i < 5000; i++) {
          const n = s * 5000 + i + 1;
          writeMessage(doc, idOf(n), { author: n % 2 ? ada : bob, createdAt: n, body: `m${n}` });
          segmentMaps(doc).seq.set(idOf(n), { seq: n, at: n });
        }
      }),
    );
    // Segment 1 first: the order comes from the numbers, not from which segment arrived first.
    t.follow(1, docs[1] as Y.Doc);
    t.follow(0, docs[0] as Y.Doc);
    const before = t.items();
    expect(before.map((m) => m.seq)).toEqual([...Array(10_000).keys()].map((i) => i + 1));

    writeEdit(docs[0] as Y.Doc, idOf(3), { body: 'm3 edited', editedAt: 9 });
    writeReaction(docs[0] as Y.Doc, idOf(3), '👍', bob, 10);
    const after = t.items();
    expect(after).not.toBe(before);
    expect(after[2]?.body).toBe('m3 edited');
    expect(after[2]?.reactions).toEqual({ '👍': [bob] });
    // Every other item is the very same object: nothing else was read again.
    expect(after.filter((m, i) => m !== before[i]).map((m) => m.id)).toEqual([idOf(3)]);
    expect(t.items()).toBe(after); // unchanged: the same array

    removeReaction(docs[0] as Y.Doc, idOf(3), '👍', bob);
    expect(t.items()[2]?.reactions).toEqual({});
    writeDeletion(docs[1] as Y.Doc, idOf(9000), { by: bob, at: 11 });
    expect(t.items()[8999]?.deleted).toEqual({ by: bob, at: 11 });
    expect(t.items()[8999]?.body).toBe('');
    expect(changes()).toBeGreaterThan(0);
  });

  it('puts a pending message after the numbered ones and moves it when it gets its number', () => {
    const { t } = timeline();
    const doc = new Y.Doc();
    t.follow(0, doc);
    writeMessage(doc, idOf(1), { author: ada, createdAt: 5, body: 'first' });
    writeMessage(doc, idOf(2), { author: bob, createdAt: 1, body: 'older but later numbered' });
    expect(t.items().map((m) => m.body)).toEqual(['older but later numbered', 'first']); // by creation time while pending
    segmentMaps(doc).seq.set(idOf(1), { seq: 1, at: 6 });
    expect(t.items().map((m) => [m.body, m.seq])).toEqual([
      ['first', 1],
      ['older but later numbered', null],
    ]);
    segmentMaps(doc).seq.set(idOf(2), { seq: 2, at: 7 });
    expect(t.items().map((m) => m.seq)).toEqual([1, 2]);
    expect(t.get(idOf(2))?.status).toBe('sent');
    // A burst numbered in one transaction (more than are moved one by one) lands in order too.
    doc.transact(() => {
      for (let i = 3; i <= 202; i++) writeMessage(doc, idOf(i), { author: ada, createdAt: 1000 - i, body: `b${i}` });
    });
    expect(t.items().slice(2).map((m) => m.body)).toEqual([...Array(200).keys()].map((i) => `b${202 - i}`)); // by creation time
    doc.transact(() => {
      for (let i = 3; i <= 202; i++) segmentMaps(doc).seq.set(idOf(i), { seq: i, at: 8 });
    });
    expect(t.items().map((m) => m.seq)).toEqual([...Array(202).keys()].map((i) => i + 1));
    expect(t.items().every((m) => t.get(m.id) === m)).toBe(true);
    t.unfollow(0);
    expect(t.items()).toEqual([]);
  });
});

describe('MessageWindow', () => {
  it('reads the same messages as items(), by position, range and id, with messages waiting for files among the pending ones', () => {
    const { t } = timeline();
    const doc = new Y.Doc();
    t.follow(0, doc);
    doc.transact(() => {
      for (let i = 1; i <= 300; i++) {
        writeMessage(doc, idOf(i), { author: i % 3 ? ada : bob, createdAt: i, body: `m${i}` });
        // Every fifth one is still pending (created in that order, so they sort by creation time).
        if (i % 5 !== 0) segmentMaps(doc).seq.set(idOf(i), { seq: i, at: i });
      }
    });
    const waiting = { ...t.items()[0], id: idOf(1000), seq: null, status: 'pending', segment: -1, createdAt: 150, body: 'photo' } as MessageItem;
    const window = new MessageWindow(t, [waiting]);
    const expected = [...t.items(), waiting].sort(compareMessages);
    expect(window.length).toBe(expected.length);
    expect(window.slice(0, window.length)).toEqual(expected);
    expect(window.slice(230, 250)).toEqual(expected.slice(230, 250));
    expect([...window.newestFirst()]).toEqual([...expected].reverse());
    for (const [index, item] of expected.entries()) {
      expect(window.at(index)).toBe(item);
      expect(window.indexOf(item.id)).toBe(index);
      expect(window.get(item.id)).toBe(item);
    }
    expect(window.indexOf(idOf(999))).toBe(-1);
    // Numbered 1..300 but for every fifth: the first after 100 is 101, the first after 300 the first pending one.
    expect(window.at(window.firstAfter(100))?.seq).toBe(101);
    expect(window.at(window.firstAfter(300))?.seq).toBeNull();
    expect(window.firstAfter(0)).toBe(0);
  });
});
