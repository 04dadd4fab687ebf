// The contract for the message projection: what a commit numbered is there to read, page and
// list by segment, and edits and deletions follow the state the documents converged to —
// a deleted message keeps no text, whatever comes after.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MessageId } from '@outpost/shared-schema';
import type { ConversationRecord, MessageState, NewMessage, Storage } from '../../Storage.ts';
import { accepted, commitOne, createGroup, createUsers, newMessage, NOW, numberingWrite, versionOf, type ContractContext } from './context.ts';

/** Numbers `list` (all in one segment) in one commit on top of what the log holds. */
async function number(storage: Storage, conversation: ConversationRecord, list: readonly NewMessage[], now = NOW): Promise<void> {
  const write = numberingWrite(conversation.id, 0, list);
  accepted(await commitOne(storage.log, { ...write, base: await versionOf(storage.log, write.doc) }, now));
}

function edited(conversation: ConversationRecord, id: MessageId, body: string, editedAt: number): MessageState {
  return { conversationId: conversation.id, id, edit: { body, editedAt }, deletedAt: null };
}

function deleted(conversation: ConversationRecord, id: MessageId, deletedAt: number, edit: MessageState['edit'] = null): MessageState {
  return { conversationId: conversation.id, id, edit, deletedAt };
}

export function projectionContract(context: ContractContext): void {
  describe('message projection', () => {
    it('holds what a commit numbered, as first sent', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const original = newMessage(alice!, 0, 'first draft');
      const reply: NewMessage = { ...newMessage(alice!, 0, 'a reply'), replyTo: original.id };
      await number(storage, group, [original, reply]);
      expect(await storage.projection.getMessage(group.id, original.id)).toEqual({
        conversationId: group.id,
        id: original.id,
        seq: 1,
        segment: 0,
        receivedAt: NOW,
        author: alice!.id,
        createdAt: original.createdAt,
        body: 'first draft',
        replyTo: null,
        editedAt: null,
        deletedAt: null,
      });
      expect((await storage.projection.getMessage(group.id, reply.id))?.replyTo).toBe(original.id);
      expect(await storage.projection.getMessage(group.id, randomUUID() as MessageId)).toBeNull();
      const other = await createGroup(storage, alice!);
      expect(await storage.projection.getMessage(other.id, original.id)).toBeNull();
    });

    it('lists the numbered messages of one segment, by seq', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const batch = [newMessage(alice!, 0), newMessage(alice!, 1), newMessage(alice!, 0), newMessage(alice!, 1), newMessage(alice!, 1)];
      // Numbered in two commits, the second listing its messages out of segment order.
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, batch.slice(0, 2)), NOW));
      accepted(await commitOne(storage.log, numberingWrite(group.id, 1, batch.slice(2)), NOW + 1));
      expect(await storage.projection.listSegmentNumbers(group.id, 1)).toEqual([
        { id: batch[1]!.id, seq: 2, segment: 1, receivedAt: NOW },
        { id: batch[3]!.id, seq: 4, segment: 1, receivedAt: NOW + 1 },
        { id: batch[4]!.id, seq: 5, segment: 1, receivedAt: NOW + 1 },
      ]);
      expect((await storage.projection.listSegmentNumbers(group.id, 0)).map((numbered) => numbered.seq)).toEqual([1, 3]);
      expect(await storage.projection.listSegmentNumbers(group.id, 2)).toEqual([]);
    });

    it('pages messages by seq, one conversation at a time', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const other = await createGroup(storage, alice!);
      const batch = Array.from({ length: 5 }, (_, index) => newMessage(alice!, 0, `message ${index + 1}`));
      await number(storage, group, batch.slice(0, 3));
      await number(storage, other, [newMessage(alice!)]);
      await number(storage, group, batch.slice(3));
      const page = async (afterSeq: number, limit: number) =>
        (await storage.projection.listMessages(group.id, afterSeq, limit)).map((message) => [message.seq, message.body]);
      expect(await page(0, 2)).toEqual([
        [1, 'message 1'],
        [2, 'message 2'],
      ]);
      expect(await page(2, 2)).toEqual([
        [3, 'message 3'],
        [4, 'message 4'],
      ]);
      expect(await page(4, 2)).toEqual([[5, 'message 5']]);
      expect(await page(5, 2)).toEqual([]);
      expect(await storage.projection.listMessages(group.id, 0, 10)).toEqual(
        await Promise.all(batch.map(async (message) => storage.projection.getMessage(group.id, message.id))),
      );
    });

    it('shows the winning edit beside the original, and a later winner replaces it', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const message = newMessage(alice!, 0, 'first draft');
      const untouched = newMessage(alice!, 0, 'left alone');
      await number(storage, group, [message, untouched]);
      await storage.projection.applyMessageStates([edited(group, message.id, 'second draft', NOW + 10)]);
      expect(await storage.projection.getMessage(group.id, message.id)).toMatchObject({ body: 'second draft', editedAt: NOW + 10, deletedAt: null });
      // The document converged to another edit (an offline device's, made earlier but arriving later).
      await storage.projection.applyMessageStates([edited(group, message.id, 'final text', NOW + 5)]);
      expect(await storage.projection.getMessage(group.id, message.id)).toMatchObject({ body: 'final text', editedAt: NOW + 5 });
      expect(await storage.projection.getMessage(group.id, untouched.id)).toMatchObject({ body: 'left alone', editedAt: null });
      expect((await storage.projection.listMessages(group.id, 0, 1))[0]?.body).toBe('final text');
      await storage.projection.applyMessageStates([]);
      expect((await storage.projection.getMessage(group.id, message.id))?.body).toBe('final text');
    });

    it('empties a deleted message for good, whatever state comes after', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const message = newMessage(alice!, 0, 'regrettable');
      await number(storage, group, [message]);
      await storage.projection.applyMessageStates([edited(group, message.id, 'even worse', NOW + 1)]);
      await storage.projection.applyMessageStates([deleted(group, message.id, NOW + 5, { body: 'even worse', editedAt: NOW + 1 })]);
      const gone = { body: '', editedAt: null, deletedAt: NOW + 5 };
      expect(await storage.projection.getMessage(group.id, message.id)).toMatchObject(gone);
      await storage.projection.applyMessageStates([edited(group, message.id, 'back from the dead', NOW + 9)]);
      await storage.projection.applyMessageStates([deleted(group, message.id, NOW + 20)]);
      expect(await storage.projection.getMessage(group.id, message.id)).toMatchObject(gone);
      expect((await storage.projection.listMessages(group.id, 0, 10))[0]).toMatchObject(gone);
    });

    it('applies many states in one call, in order, across conversations', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const other = await createGroup(storage, alice!);
      const [a, b, c] = [newMessage(alice!, 0, 'a'), newMessage(alice!, 0, 'b'), newMessage(alice!, 0, 'c')];
      const d = newMessage(alice!, 0, 'd');
      await number(storage, group, [a, b, c]);
      await number(storage, other, [d]);
      await storage.projection.applyMessageStates([
        edited(group, a.id, 'a, first edit', NOW + 1),
        deleted(group, b.id, NOW + 2),
        edited(other, d.id, 'd, edited', NOW + 3),
        edited(group, a.id, 'a, second edit', NOW + 4), // a later state of the same message wins
        edited(group, b.id, 'b, revived?', NOW + 5), // not after a deletion
        edited(group, randomUUID() as MessageId, 'no such message', NOW + 6),
      ]);
      expect(await storage.projection.getMessage(group.id, a.id)).toMatchObject({ body: 'a, second edit', editedAt: NOW + 4 });
      expect(await storage.projection.getMessage(group.id, b.id)).toMatchObject({ body: '', deletedAt: NOW + 2, editedAt: null });
      expect(await storage.projection.getMessage(group.id, c.id)).toMatchObject({ body: 'c', editedAt: null, deletedAt: null });
      expect(await storage.projection.getMessage(other.id, d.id)).toMatchObject({ body: 'd, edited', editedAt: NOW + 3 });
    });
  });
}
