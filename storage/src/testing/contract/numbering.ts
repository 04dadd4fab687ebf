// The contract for numbering in commits: every message gets one number in its conversation,
// numbers run 1..N without gap or duplicate however many nodes commit at once, a message id
// belongs to one segment, and the head moves exactly as the rule says.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { segmentDoc, type ConversationId, type MessageId } from '@outpost/shared-schema';
import type { ConversationCursor, NewMessage, NumberedMessage, Storage } from '../../Storage.ts';
import {
  accepted,
  BIG_SEGMENT,
  commitLatest,
  commitOne,
  createGroup,
  createUsers,
  entryBytes,
  newMessage,
  NOW,
  numberingWrite,
  range,
  versionOf,
  type ContractContext,
} from './context.ts';

function seqs(numbered: readonly NumberedMessage[]): number[] {
  return numbered.map((message) => message.seq);
}

/** Where the head stands after `messages` (segment per message, in seq order) under the head rule. */
function replayHead(segments: readonly number[], segmentSize: number): { head: number; headCount: number } {
  let head = 0;
  let headCount = 0;
  for (const segment of segments) {
    if (segment === head + 1) {
      head += 1;
      headCount = 0;
    }
    if (segment === head) {
      headCount += 1;
      if (headCount >= segmentSize) {
        head += 1;
        headCount = 0;
      }
    }
  }
  return { head, headCount };
}

async function conversationState(storage: Storage, id: ConversationId): Promise<{ lastSeq: number; head: number } | undefined> {
  const conversation = await storage.conversations.getConversation(id);
  return conversation ? { lastSeq: conversation.lastSeq, head: conversation.head } : undefined;
}

export function numberingContract(context: ContractContext): void {
  describe('numbering in commits', () => {
    it('numbers new messages 1..N in order within and across batches, per conversation', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const other = await createGroup(storage, alice!);
      const batch = [newMessage(alice!), newMessage(alice!), newMessage(alice!)];
      const outcome = accepted(await commitOne(storage.log, numberingWrite(group.id, 0, batch)));
      expect(outcome).toEqual({
        ok: true,
        version: 1,
        numbers: batch.map((message, index) => ({ id: message.id, seq: index + 1, segment: 0, receivedAt: NOW })),
        cursor: { conversationId: group.id, lastSeq: 3, head: 0 },
      });
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 3, head: 0 });

      // One batch: two writes numbering the same conversation (one after the other on the
      // same document), and one numbering another conversation.
      const [a, b, c, d] = [newMessage(alice!), newMessage(alice!), newMessage(alice!), newMessage(alice!)];
      const outcomes = await storage.log.commit(
        [numberingWrite(group.id, 1, [a!, b!]), numberingWrite(other.id, 0, [c!]), numberingWrite(group.id, 2, [d!])],
        NOW + 1,
      );
      expect(outcomes.map((result) => seqs(accepted(result).numbers))).toEqual([[4, 5], [1], [6]]);
      expect(outcomes.map((result) => accepted(result).cursor)).toEqual([
        { conversationId: group.id, lastSeq: 5, head: 0 },
        { conversationId: other.id, lastSeq: 1, head: 0 },
        { conversationId: group.id, lastSeq: 6, head: 0 },
      ]);
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 6, head: 0 });
      expect(await conversationState(storage, other.id)).toEqual({ lastSeq: 1, head: 0 });
      expect(seqs(await storage.projection.listSegmentNumbers(group.id, 0))).toEqual(range(1, 6));
    });

    it('gives a message listed twice in a batch one number', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const message = newMessage(alice!);
      const other = newMessage(alice!);
      const outcomes = await storage.log.commit(
        [numberingWrite(group.id, 0, [message, other, message]), numberingWrite(group.id, 1, [message])],
        NOW,
      );
      expect(outcomes.map((outcome) => seqs(accepted(outcome).numbers))).toEqual([[1, 2, 1], [1]]);
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 2, head: 0 });
    });

    it('returns the number a message already has when it is committed again in the same segment', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const first = [newMessage(alice!), newMessage(alice!)];
      const original = accepted(await commitOne(storage.log, numberingWrite(group.id, 0, first), NOW)).numbers;
      // The same update arriving again (through another node, or a retried sync), with a new one.
      const fresh = newMessage(alice!);
      const again = accepted(await commitOne(storage.log, numberingWrite(group.id, 1, [first[1]!, fresh, first[0]!]), NOW + 10));
      expect(again.numbers).toEqual([original[1], { id: fresh.id, seq: 3, segment: 0, receivedAt: NOW + 10 }, original[0]]);
      expect(again.cursor).toEqual({ conversationId: group.id, lastSeq: 3, head: 0 });
      expect((await storage.projection.getMessage(group.id, first[0]!.id))?.receivedAt).toBe(NOW);
    });

    it('refuses a message id that is already numbered in another segment, writing nothing', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const victim = newMessage(alice!, 0, 'the original');
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [victim])));
      // bob reuses alice's message id in the next segment, beside an honest new message.
      const forged: NewMessage = { ...newMessage(bob!, 1, 'not what alice said'), id: victim.id };
      const honest = newMessage(bob!, 1);
      const doc = segmentDoc(group.id, 1);
      expect(await commitOne(storage.log, { ...numberingWrite(group.id, 0, [honest, forged]), doc })).toEqual({
        ok: false,
        reason: 'duplicateMessage',
        ids: [victim.id],
      });
      expect(await storage.log.load(doc)).toMatchObject({ entries: [], version: 0 });
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 1, head: 0 });
      expect(await storage.projection.getMessage(group.id, honest.id)).toBeNull();
      expect(await storage.projection.getMessage(group.id, victim.id)).toMatchObject({ author: alice!.id, body: 'the original', segment: 0 });

      // The same within one batch: numbered by one write, reused in another segment by the next.
      const message = newMessage(alice!, 0);
      const outcomes = await storage.log.commit(
        [numberingWrite(group.id, 1, [message]), { ...numberingWrite(group.id, 0, [{ ...message, segment: 1 }]), doc }],
        NOW,
      );
      expect(outcomes[0]).toMatchObject({ ok: true, numbers: [{ id: message.id, seq: 2, segment: 0 }] });
      expect(outcomes[1]).toEqual({ ok: false, reason: 'duplicateMessage', ids: [message.id] });
      // And one write naming one id in two segments.
      const twice = newMessage(alice!, 0);
      expect(await commitOne(storage.log, numberingWrite(group.id, 2, [twice, { ...twice, segment: 1 }]))).toEqual({
        ok: false,
        reason: 'duplicateMessage',
        ids: [twice.id],
      });
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 2, head: 0 });
    });

    it('hands the numbers to an entry built as a function', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const [a, b, c] = [newMessage(alice!), newMessage(alice!), newMessage(alice!)];
      const seen: NumberedMessage[][] = [];
      const entry = (numbers: readonly NumberedMessage[]) => {
        seen.push([...numbers]);
        return new Uint8Array(seqs(numbers));
      };
      accepted(await commitOne(storage.log, { ...numberingWrite(group.id, 0, [a!, b!]), entry }));
      accepted(await commitOne(storage.log, { ...numberingWrite(group.id, 1, [b!, c!]), entry }));
      expect(seen.map(seqs)).toEqual([
        [1, 2],
        [2, 3],
      ]);
      expect(seen[1]!.map((numbered) => numbered.id)).toEqual([b!.id, c!.id]);
      expect((await storage.log.load(segmentDoc(group.id, 0))).entries).toEqual([
        { version: 1, update: new Uint8Array([1, 2]) },
        { version: 2, update: new Uint8Array([2, 3]) },
      ]);
    });

    it('refuses a new message in a segment past head + 1, writing nothing', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const write = numberingWrite(group.id, 0, [newMessage(alice!, 0), newMessage(alice!, 2)]);
      expect(await commitOne(storage.log, write)).toEqual({ ok: false, reason: 'beyondHead', head: 0 });
      expect(await versionOf(storage.log, write.doc)).toBe(0);
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 0, head: 0 });
      expect(await storage.projection.listSegmentNumbers(group.id, 0)).toEqual([]);
    });

    it('moves the head to head + 1 when a message lands there, and still numbers older segments', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const cursor = async (segment: number): Promise<ConversationCursor | undefined> => {
        const doc = segmentDoc(group.id, segment);
        return accepted(await commitOne(storage.log, numberingWrite(group.id, await versionOf(storage.log, doc), [newMessage(alice!, segment)]))).cursor;
      };
      expect(await cursor(1)).toEqual({ conversationId: group.id, lastSeq: 1, head: 1 });
      expect(await cursor(0)).toEqual({ conversationId: group.id, lastSeq: 2, head: 1 }); // a client that was offline
      expect(await cursor(2)).toEqual({ conversationId: group.id, lastSeq: 3, head: 2 });
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 3, head: 2 });
      expect(await commitOne(storage.log, numberingWrite(group.id, 0, [newMessage(alice!, 4)]))).toEqual({ ok: false, reason: 'beyondHead', head: 2 });
    });

    it('moves the head on after segmentSize messages in the head segment, and says where it stands', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const SIZE = 3;
      const commit = async (segments: number[]): Promise<ConversationCursor | undefined> => {
        const doc = segmentDoc(group.id, segments[0]!);
        const list = segments.map((segment) => newMessage(alice!, segment));
        return accepted(await commitOne(storage.log, { ...numberingWrite(group.id, await versionOf(storage.log, doc), list, SIZE), doc })).cursor;
      };
      expect(await commit([0, 0])).toEqual({ conversationId: group.id, lastSeq: 2, head: 0 });
      // The third message fills segment 0; the fourth, still written to 0, is numbered there.
      expect(await commit([0, 0])).toEqual({ conversationId: group.id, lastSeq: 4, head: 1 });
      expect(await commit([1])).toEqual({ conversationId: group.id, lastSeq: 5, head: 1 });
      expect(await commit([0])).toEqual({ conversationId: group.id, lastSeq: 6, head: 1 }); // old segments do not count
      expect(await commit([1])).toEqual({ conversationId: group.id, lastSeq: 7, head: 1 });
      expect(await commit([1])).toEqual({ conversationId: group.id, lastSeq: 8, head: 2 });
      // A message in head + 1 moves the head and starts its count: two more fill segment 3.
      expect(await commit([3])).toEqual({ conversationId: group.id, lastSeq: 9, head: 3 });
      expect(await commit([3])).toEqual({ conversationId: group.id, lastSeq: 10, head: 3 });
      expect(await commit([3])).toEqual({ conversationId: group.id, lastSeq: 11, head: 4 });
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 11, head: 4 });
      expect(seqs(await storage.projection.listSegmentNumbers(group.id, 0))).toEqual([1, 2, 3, 4, 6]);
    });

    it('refuses to number messages of a conversation that does not exist, and the rest of the batch lands', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const missing = randomUUID() as ConversationId;
      const outcomes = await storage.log.commit([numberingWrite(missing, 0, [newMessage(alice!)]), numberingWrite(group.id, 0, [newMessage(alice!)])], NOW);
      expect(outcomes[0]).toEqual({ ok: false, reason: 'noConversation', conversationId: missing });
      expect(outcomes[1]).toMatchObject({ ok: true, numbers: [{ seq: 1 }] });
      expect(await versionOf(storage.log, segmentDoc(missing, 0))).toBe(0);
      expect(await storage.projection.listMessages(missing, 0, 10)).toEqual([]);
    });

    it('numbers 1..N without gap or duplicate when two instances commit overlapping batches at once', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const messages = Array.from({ length: 30 }, (_, index) => newMessage(index % 2 ? alice! : bob!));
      // 20 commits, each a window of 6 messages overlapping its neighbours', alternating instance.
      const calls = Array.from({ length: 20 }, async (_, call) => {
        const { doc, messages: numbering } = numberingWrite(group.id, 0, messages.slice(call, call + 6).reverse());
        const outcome = await commitLatest((call % 2 ? second : storage).log, { doc, entry: entryBytes(), messages: numbering }, NOW + call);
        return accepted(outcome).numbers;
      });
      const results = (await Promise.all(calls)).flat();

      const numberOf = new Map<MessageId, NumberedMessage>();
      for (const numbered of results) {
        const seen = numberOf.get(numbered.id);
        if (seen) expect(numbered).toEqual(seen); // every commit saw the same number for an id
        numberOf.set(numbered.id, numbered);
      }
      const numberedIds = new Set(messages.slice(0, 25).map((message) => message.id));
      expect(new Set(numberOf.keys())).toEqual(numberedIds);
      expect([...numberOf.values()].map((numbered) => numbered.seq).sort((a, b) => a - b)).toEqual(range(1, numberedIds.size));
      expect((await storage.conversations.getConversation(group.id))?.lastSeq).toBe(numberedIds.size);
      expect(await second.projection.listSegmentNumbers(group.id, 0)).toEqual([...numberOf.values()].sort((a, b) => a.seq - b.seq));
      expect(await versionOf(storage.log, segmentDoc(group.id, 0))).toBe(20);
    });

    it('moves the head exactly by the rule when two instances number the same conversation at once', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const SIZE = 4;
      // Each writer sends to the head it last heard of, so some messages land in a segment the
      // other writer has just filled; the head must end where a one-at-a-time replay puts it.
      const writer = async (instance: Storage, author: typeof alice) => {
        let head = 0;
        const cursors: { cursor: ConversationCursor; lastOwn: number }[] = [];
        for (let index = 0; index < 12; index++) {
          const list = [newMessage(author!, head), ...(index % 3 === 0 ? [newMessage(author!, head)] : [])];
          const { doc, messages } = numberingWrite(group.id, 0, list, SIZE);
          const outcome = accepted(await commitLatest(instance.log, { doc, entry: entryBytes(), messages }));
          head = outcome.cursor!.head;
          cursors.push({ cursor: outcome.cursor!, lastOwn: Math.max(...seqs(outcome.numbers)) });
        }
        return cursors;
      };
      const cursors = (await Promise.all([writer(storage, alice), writer(second, bob)])).flat();

      const numbered = (await Promise.all(range(0, 20).map((segment) => storage.projection.listSegmentNumbers(group.id, segment)))).flat();
      numbered.sort((a, b) => a.seq - b.seq);
      expect(seqs(numbered)).toEqual(range(1, 32));
      const segments = numbered.map((message) => message.segment);
      // Every commit's cursor is the state right after its own messages, in seq order.
      for (const { cursor, lastOwn } of cursors) {
        expect(cursor).toEqual({ conversationId: group.id, lastSeq: lastOwn, head: replayHead(segments.slice(0, lastOwn), SIZE).head });
      }
      expect(await conversationState(second, group.id)).toEqual({ lastSeq: 32, head: replayHead(segments, SIZE).head });
      expect(replayHead(segments, SIZE).head).toBeGreaterThanOrEqual(3); // the head did move, several times
    });

    it('keeps a stale write from numbering anything', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [newMessage(alice!)])));
      const late = newMessage(alice!);
      expect(await commitOne(storage.log, numberingWrite(group.id, 0, [late], BIG_SEGMENT))).toEqual({ ok: false, reason: 'stale' });
      expect(await storage.projection.getMessage(group.id, late.id)).toBeNull();
      expect(await conversationState(storage, group.id)).toEqual({ lastSeq: 1, head: 0 });
    });
  });
}
