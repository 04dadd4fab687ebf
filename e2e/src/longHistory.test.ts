// Years of history through the real server: a 5,000-message conversation in small segments. A
// new device shows the latest page first, loads older segments in order as it scrolls, opens a
// deep link into segment 0 without what lies between, and keeps only the head subscribed while
// an edit of an old message made on another device still arrives (the server document's
// per-segment change counters say which old segment to re-sync).
import { afterAll, describe, expect, it } from 'vitest';
import { serverDoc, serverMaps, type MessageId } from '@outpost/shared-schema';
import type { Conversation, OutpostClient } from '@outpost/client';
import { backends, secondDevice, teardown, twoPeople, until } from './harness.ts';

afterAll(teardown);

const SEGMENT = 200;
const SEGMENTS = 25;

/** Writes SEGMENTS full segments, each a burst from one of the two people, acknowledged before the next. */
async function fill(people: [OutpostClient, OutpostClient], id: string): Promise<MessageId[]> {
  const views = people.map((p) => p.conversation(id));
  await until('both know the segment size', () => views.every((v) => v.meta().get()?.segmentSize === SEGMENT));
  const ids: MessageId[] = [];
  for (let s = 0; s < SEGMENTS; s++) {
    const writer = views[s % 2] as Conversation;
    for (let i = 0; i < SEGMENT; i++) ids.push(writer.send(`m${s * SEGMENT + i + 1}`));
    const total = (s + 1) * SEGMENT;
    await until(
      `segment ${s} is numbered on both devices`,
      () => views.every((v) => v.messages().get().filter((m) => m.seq !== null).length === total),
      () => views.map((v) => v.messages().get().filter((m) => m.seq !== null).length),
      120_000,
    );
  }
  return ids;
}

function bodies(c: Conversation): string[] {
  return c.messages().get().map((m) => m.body);
}

function range(from: number, to: number): string[] {
  return [...Array(to - from + 1).keys()].map((i) => `m${from + i}`);
}

describe.each(backends)('long history on %s', (backend) => {
  it('a new device opens 5,000 messages at the latest page, scrolls back in order, deep-links into segment 0, and follows old edits with only the head subscribed', async () => {
    const { server, ada, bob, id } = await twoPeople(backend, { segmentSize: SEGMENT });
    const ids = await fill([ada, bob], id);
    const a = ada.conversation(id);
    await until('the head moved past the last full segment', () => a.meta().get()?.head === SEGMENTS, () => a.meta().get());

    // A new phone: nothing in its replica. The latest page comes first, and nothing older.
    const phone = await secondDevice(server.url, bob, { history: 'onDemand' });
    const p = phone.conversation(id);
    await until('the phone shows the latest page', () => bodies(p).length >= 50 && bodies(p).at(-1) === 'm5000', () => bodies(p).length);
    expect(p.loadedSegments()).toEqual([SEGMENTS - 1, SEGMENTS]);
    expect(bodies(p)).toEqual(range(4801, 5000));

    // Scrolling up: one older segment at a time, in order, the history contiguous.
    expect(await p.loadOlder()).toBe(true);
    expect(p.loadedSegments()).toEqual([SEGMENTS - 2, SEGMENTS - 1, SEGMENTS]);
    expect(bodies(p)).toEqual(range(4601, 5000));
    expect(await p.loadOlder()).toBe(true);
    expect(bodies(p)).toEqual(range(4401, 5000));
    expect(p.messages().get().map((m) => m.seq)).toEqual([...Array(600).keys()].map((i) => 4401 + i));

    // A deep link into segment 0 on a third device: that segment, not the 23 between.
    const tablet = await secondDevice(server.url, bob, { history: 'onDemand' });
    const t = tablet.conversation(id);
    const linked = ids[4] as MessageId;
    await t.openAt(linked);
    expect(t.has(linked)).toBe(true);
    expect(t.messages().get().find((m) => m.id === linked)?.body).toBe('m5');
    // The head (and the segment before it, the head holding fewer than 50) load beside the link's
    // segment, not before it: on a busy machine they may still be on their way.
    await until('the tablet has the linked segment and the latest page', () => t.loadedSegments().join() === [0, SEGMENTS - 1, SEGMENTS].join(), () => t.loadedSegments());

    // Only the head stays subscribed once the fetches are done.
    await until('the tablet keeps only the head subscribed', () => t.subscribedSegments().join() === String(SEGMENTS), () => t.subscribedSegments());
    // Ada edits and reacts to an old message of hers on her device; the tablet is not subscribed to segment 0.
    const old = ids[2] as MessageId;
    a.edit(old, 'm3, corrected a year later');
    a.react(old, '👍');
    await until('the server document counts a change in segment 0', () => (serverMaps(server.hocuspocus.documents.get(serverDoc(id)) as never).segments.get('0') ?? 0) > 0);
    await until(
      'the tablet sees the edit and the reaction of the old message',
      () => {
        const m = t.messages().get().find((x) => x.id === old);
        return m?.body === 'm3, corrected a year later' && (m.reactions['👍']?.length ?? 0) === 1;
      },
      () => t.messages().get().find((x) => x.id === old),
    );
    await until('and goes back to the head alone', () => t.subscribedSegments().join() === String(SEGMENTS), () => t.subscribedSegments());

    // A deletion of an old message arrives the same way on the phone, which is not subscribed to segment 23 either.
    const older = ids[SEGMENT * (SEGMENTS - 2) + 7] as MessageId; // m4608, bob's (segment 23)
    await until('the phone keeps only the head subscribed', () => p.subscribedSegments().join() === String(SEGMENTS), () => p.subscribedSegments());
    bob.conversation(id).delete(older);
    await until('the phone sees the deletion', () => Boolean(p.messages().get().find((m) => m.id === older)?.deleted));

    // A device that fetches all history gets every message and keeps subscribed only the head
    // and the two segments it wrote to last (bob wrote the odd ones; the deletion was in 23).
    const b = bob.conversation(id);
    await until('bob\'s first device has the whole history', () => b.messages().get().length === 5000);
    await until('and only the head and its recent segments subscribed', () => b.subscribedSegments().join() === `21,23,${SEGMENTS}`, () => b.subscribedSegments());
  }, 600_000);
});
