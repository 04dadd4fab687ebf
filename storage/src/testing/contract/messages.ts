// The contract for canonical numbering and the message projection: every message gets one
// number, numbers run 1..N without gap or duplicate however many nodes number at once, and the
// projection answers what the inbox shows (last message, unread count, read positions).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConversationId, MessageId } from '@outpost/shared-schema';
import type { NewMessage, NumberedMessage } from '../../Storage.ts';
import { createGroup, createUsers, newMessage, type ContractContext } from './context.ts';

const RECEIVED = 1_700_000_100_000;

function seqs(numbered: readonly NumberedMessage[]): number[] {
  return numbered.map((message) => message.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

export function messagesContract(context: ContractContext): void {
  describe('numbering', () => {
    it('numbers new messages 1..N in the order given, recording segment and receive time', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const batch = [newMessage(alice!), newMessage(alice!), newMessage(alice!)];
      const numbered = await storage.numberMessages(group.id, batch, RECEIVED);
      expect(numbered).toEqual(batch.map((message, index) => ({ id: message.id, seq: index + 1, segment: 0, receivedAt: RECEIVED })));
      expect((await storage.getConversation(group.id))?.lastSeq).toBe(3);
      const next = await storage.numberMessages(group.id, [newMessage(alice!)], RECEIVED + 1);
      expect(seqs(next)).toEqual([4]);
    });

    it('keeps the number, segment and receive time of a message numbered before', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const first = [newMessage(alice!), newMessage(alice!)];
      const original = await storage.numberMessages(group.id, first, RECEIVED);
      expect(await storage.numberMessages(group.id, first, RECEIVED + 5)).toEqual(original);

      // The same message arriving again through another segment (a client offline for long).
      const moved: NewMessage = { ...first[1]!, segment: 3 };
      const fresh = [newMessage(alice!, 1), newMessage(alice!, 1)];
      const mixed = await storage.numberMessages(group.id, [fresh[0]!, moved, first[0]!, fresh[1]!], RECEIVED + 10);
      expect(mixed).toEqual([
        { id: fresh[0]!.id, seq: 3, segment: 1, receivedAt: RECEIVED + 10 },
        original[1],
        original[0],
        { id: fresh[1]!.id, seq: 4, segment: 1, receivedAt: RECEIVED + 10 },
      ]);
      expect((await storage.getConversation(group.id))?.lastSeq).toBe(4);
    });

    it('gives a message listed twice in one batch one number', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const message = newMessage(alice!);
      const other = newMessage(alice!);
      expect(seqs(await storage.numberMessages(group.id, [message, other, message], RECEIVED))).toEqual([1, 2, 1]);
      expect((await storage.getConversation(group.id))?.lastSeq).toBe(2);
    });

    it('numbers each conversation on its own', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const one = await createGroup(storage, alice!);
      const two = await createGroup(storage, alice!);
      await storage.numberMessages(one.id, [newMessage(alice!), newMessage(alice!)], RECEIVED);
      expect(seqs(await storage.numberMessages(two.id, [newMessage(alice!)], RECEIVED))).toEqual([1]);
      expect(seqs(await storage.numberMessages(one.id, [newMessage(alice!)], RECEIVED))).toEqual([3]);
    });

    it('refuses to number messages of a conversation that does not exist', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      await expect(storage.numberMessages(randomUUID() as ConversationId, [newMessage(alice!)], RECEIVED)).rejects.toMatchObject({
        kind: 'notFound',
      });
    });

    it('numbers 1..N without gap or duplicate when two instances number overlapping batches at once', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const messages = Array.from({ length: 30 }, (_, index) => newMessage(index % 2 ? alice! : bob!, index % 3));
      // 20 calls, each a window of 6 messages overlapping its neighbours', alternating instance.
      const calls = Array.from({ length: 20 }, (_, call) => {
        const window = messages.slice(call, call + 6).reverse();
        return (call % 2 ? second : storage).numberMessages(group.id, window, RECEIVED + call);
      });
      const results = (await Promise.all(calls)).flat();

      const numberOf = new Map<MessageId, NumberedMessage>();
      for (const numbered of results) {
        const seen = numberOf.get(numbered.id);
        if (seen) expect(numbered).toEqual(seen); // every call saw the same number for an id
        numberOf.set(numbered.id, numbered);
      }
      const numberedIds = new Set(messages.slice(0, 25).map((message) => message.id));
      expect(new Set(numberOf.keys())).toEqual(numberedIds);
      expect([...numberOf.values()].map((numbered) => numbered.seq).sort((a, b) => a - b)).toEqual(range(1, numberedIds.size));
      expect((await storage.getConversation(group.id))?.lastSeq).toBe(numberedIds.size);
      const stored = (await Promise.all([0, 1, 2].map((segment) => second.listSegmentNumbers(group.id, segment)))).flat();
      expect(stored.map((numbered) => numbered.seq).sort((a, b) => a - b)).toEqual(range(1, numberedIds.size));
    });
  });

  describe('segments', () => {
    it('lists and counts the numbered messages of one segment, by seq', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const batch = [newMessage(alice!, 0), newMessage(alice!, 1), newMessage(alice!, 0), newMessage(alice!, 1), newMessage(alice!, 1)];
      // Numbered in two calls, the second listing its messages out of segment order.
      await storage.numberMessages(group.id, batch.slice(0, 2), RECEIVED);
      await storage.numberMessages(group.id, batch.slice(2), RECEIVED + 1);
      expect(await storage.listSegmentNumbers(group.id, 1)).toEqual([
        { id: batch[1]!.id, seq: 2, segment: 1, receivedAt: RECEIVED },
        { id: batch[3]!.id, seq: 4, segment: 1, receivedAt: RECEIVED + 1 },
        { id: batch[4]!.id, seq: 5, segment: 1, receivedAt: RECEIVED + 1 },
      ]);
      expect(seqs(await storage.listSegmentNumbers(group.id, 0))).toEqual([1, 3]);
      expect(await storage.listSegmentNumbers(group.id, 2)).toEqual([]);
      expect(await storage.countSegmentMessages(group.id, 0)).toBe(2);
      expect(await storage.countSegmentMessages(group.id, 1)).toBe(3);
      expect(await storage.countSegmentMessages(group.id, 2)).toBe(0);
    });
  });

  describe('message projection', () => {
    it('stores what was numbered and records edits, ignoring an edit older than the stored one', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const original = newMessage(alice!, 0, 'first draft');
      const reply: NewMessage = { ...newMessage(alice!, 0, 'a reply'), replyTo: original.id };
      await storage.numberMessages(group.id, [original, reply], RECEIVED);
      expect(await storage.getMessage(group.id, original.id)).toEqual({
        conversationId: group.id,
        id: original.id,
        seq: 1,
        segment: 0,
        receivedAt: RECEIVED,
        author: alice!.id,
        createdAt: original.createdAt,
        body: 'first draft',
        replyTo: null,
        editedAt: null,
        deletedAt: null,
      });
      expect((await storage.getMessage(group.id, reply.id))?.replyTo).toBe(original.id);

      await storage.recordEdit(group.id, original.id, 'final text', RECEIVED + 20);
      await storage.recordEdit(group.id, original.id, 'stale replay', RECEIVED + 10);
      expect(await storage.getMessage(group.id, original.id)).toMatchObject({ body: 'final text', editedAt: RECEIVED + 20 });
      expect(await storage.getMessage(group.id, randomUUID() as MessageId)).toBeNull();
    });

    it('records the first deletion and leaves deleted messages out of the last message and unread count', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      expect(await storage.lastMessage(group.id)).toBeNull();
      const batch = [newMessage(alice!), newMessage(bob!), newMessage(bob!), newMessage(alice!), newMessage(bob!)];
      await storage.numberMessages(group.id, batch, RECEIVED);
      expect((await storage.lastMessage(group.id))?.id).toBe(batch[4]!.id);
      // Alice has read up to seq 1: bob's 2, 3 and 5 are unread to her, her own 4 is not.
      expect(await storage.countUnread(group.id, alice!.id, 1)).toBe(3);
      expect(await storage.countUnread(group.id, bob!.id, 0)).toBe(2);

      await storage.recordDeletion(group.id, batch[4]!.id, RECEIVED + 5);
      await storage.recordDeletion(group.id, batch[4]!.id, RECEIVED + 9);
      expect((await storage.getMessage(group.id, batch[4]!.id))?.deletedAt).toBe(RECEIVED + 5);
      await storage.recordDeletion(group.id, batch[3]!.id, RECEIVED + 6);
      expect((await storage.lastMessage(group.id))?.id).toBe(batch[2]!.id);
      expect(await storage.countUnread(group.id, alice!.id, 1)).toBe(2);
      expect(await storage.countUnread(group.id, alice!.id, 3)).toBe(0);
    });

    it('counts unread mentions of a handle, ignoring case and LIKE wildcards in it', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const bodies = ['hi @Alice_1 look', 'for @alice_1', '@aliceX1 is someone else', 'nothing here', 'me @alice_1'];
      const batch = bodies.map((body, i) => newMessage(i === 3 ? alice! : bob!, 0, body));
      await storage.numberMessages(group.id, batch, RECEIVED);
      expect(await storage.countMentions(group.id, alice!.id, 0, 'alice_1')).toBe(3);
      expect(await storage.countMentions(group.id, alice!.id, 1, 'alice_1')).toBe(2);
      await storage.recordEdit(group.id, batch[1]!.id, 'edited away', RECEIVED + 1);
      expect(await storage.countMentions(group.id, alice!.id, 1, 'alice_1')).toBe(1);
      await storage.recordDeletion(group.id, batch[4]!.id, RECEIVED + 2);
      expect(await storage.countMentions(group.id, alice!.id, 1, 'alice_1')).toBe(0);
    });
  });

  describe('read positions', () => {
    it('only ever raises a read position, and reports the one stored', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      expect(await storage.getReadPositions(group.id)).toEqual(new Map());
      expect(await storage.recordRead(group.id, alice!.id, 5)).toBe(5);
      expect(await storage.recordRead(group.id, alice!.id, 3)).toBe(5);
      expect(await storage.recordRead(group.id, alice!.id, 8)).toBe(8);
      expect(await storage.recordRead(group.id, bob!.id, 2)).toBe(2);
      expect(await storage.getReadPositions(group.id)).toEqual(
        new Map([
          [alice!.id, 8],
          [bob!.id, 2],
        ]),
      );
    });
  });
}
