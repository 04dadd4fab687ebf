// The contract for what else a commit checks and records with an entry: read positions (never
// past the last seq, never going back) and Yjs client ids (one owner per id and document, a
// daily cap on new ones).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { segmentDoc, userDoc, type ConversationId, type UserId } from '@outpost/shared-schema';
import { CLAIM_WINDOW_MS } from '../../commitPlan.ts';
import type { LogWrite, UpdateLog } from '../../Storage.ts';
import { CLIENTS_PER_DOC_PER_DAY } from '../../UpdateLog.ts';
import {
  accepted,
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

/** A write to `userId`'s own document that moves read positions. */
function readWrite(userId: UserId, base: number, reads: readonly { conversationId: ConversationId; seq: number }[]): LogWrite {
  return { doc: userDoc(userId), base, entry: entryBytes(), reads: reads.map((read) => ({ ...read, userId })) };
}

/** A write to `doc` made with Yjs client `ids` by `userId`, on top of what the log holds. */
async function writeWith(log: UpdateLog, doc: string, userId: UserId, ids: readonly number[], now = NOW) {
  return commitOne(log, { doc, base: await versionOf(log, doc), entry: entryBytes(), clients: { userId, ids } }, now);
}

export function commitsContract(context: ContractContext): void {
  describe('read positions in commits', () => {
    it('refuses a read past the last seq, counting messages numbered earlier in the same batch', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [newMessage(alice!), newMessage(alice!)])));

      expect(await commitOne(storage.log, readWrite(alice!.id, 0, [{ conversationId: group.id, seq: 3 }]))).toEqual({
        ok: false,
        reason: 'readBeyondEnd',
        conversationId: group.id,
        lastSeq: 2,
      });
      expect(await versionOf(storage.log, userDoc(alice!.id))).toBe(0);
      expect(await storage.projection.getReadPositions(group.id)).toEqual(new Map());

      // Two more messages numbered by an earlier write of the same batch make seq 4 readable.
      const outcomes = await storage.log.commit(
        [numberingWrite(group.id, 1, [newMessage(alice!), newMessage(alice!)]), readWrite(alice!.id, 0, [{ conversationId: group.id, seq: 4 }])],
        NOW,
      );
      expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
      // … and so do messages numbered by the write itself.
      const own = { ...numberingWrite(group.id, 2, [newMessage(alice!)]), reads: [{ conversationId: group.id, userId: alice!.id, seq: 5 }] };
      expect(await commitOne(storage.log, own)).toMatchObject({ ok: true, cursor: { lastSeq: 5 } });
      expect(await storage.projection.getReadPositions(group.id)).toEqual(new Map([[alice!.id, 5]]));
    });

    it('only ever raises a read position, per conversation and user', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const other = await createGroup(storage, alice!, [bob!]);
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, Array.from({ length: 10 }, () => newMessage(alice!)))));
      accepted(await commitOne(storage.log, numberingWrite(other.id, 0, Array.from({ length: 3 }, () => newMessage(alice!)))));
      expect(await storage.projection.getReadPositions(group.id)).toEqual(new Map());

      const read = async (userId: UserId, reads: { conversationId: ConversationId; seq: number }[]) =>
        accepted(await commitOne(storage.log, readWrite(userId, await versionOf(storage.log, userDoc(userId)), reads)));
      await read(alice!.id, [{ conversationId: group.id, seq: 5 }]);
      await read(alice!.id, [{ conversationId: group.id, seq: 3 }]); // an older device catching up
      expect(await storage.projection.getReadPositions(group.id)).toEqual(new Map([[alice!.id, 5]]));
      await read(alice!.id, [
        { conversationId: group.id, seq: 8 },
        { conversationId: group.id, seq: 6 },
        { conversationId: other.id, seq: 2 },
      ]);
      await read(bob!.id, [{ conversationId: group.id, seq: 2 }]);
      expect(await storage.projection.getReadPositions(group.id)).toEqual(
        new Map([
          [alice!.id, 8],
          [bob!.id, 2],
        ]),
      );
      expect(await storage.projection.getReadPositions(other.id)).toEqual(new Map([[alice!.id, 2]]));
      // Two writes of one batch on the same position: the higher one stays, whichever came first.
      await storage.log.commit(
        [readWrite(bob!.id, 1, [{ conversationId: group.id, seq: 9 }]), readWrite(bob!.id, 2, [{ conversationId: group.id, seq: 7 }])],
        NOW,
      );
      expect((await storage.projection.getReadPositions(group.id)).get(bob!.id)).toBe(9);
    });

    it('refuses a read in a conversation that does not exist, and the rest of the batch lands', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const missing = randomUUID() as ConversationId;
      const outcomes = await storage.log.commit(
        [readWrite(alice!.id, 0, [{ conversationId: missing, seq: 0 }]), numberingWrite(group.id, 0, [newMessage(alice!)])],
        NOW,
      );
      expect(outcomes[0]).toEqual({ ok: false, reason: 'noConversation', conversationId: missing });
      expect(outcomes[1]).toMatchObject({ ok: true, version: 1 });
      expect(await versionOf(storage.log, userDoc(alice!.id))).toBe(0);
      expect(await storage.projection.getReadPositions(missing)).toEqual(new Map());
    });
  });

  describe('client ids in commits', () => {
    it('belong to the first user who writes with them in a document, and only in that document', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const [docA, docB] = [segmentDoc(group.id, 0), segmentDoc(group.id, 1)];
      accepted(await writeWith(storage.log, docA, alice!.id, [1, 2]));
      accepted(await writeWith(storage.log, docA, alice!.id, [2, 3])); // own ids again: fine
      const taken = await writeWith(storage.log, docA, bob!.id, [3, 4, 1]);
      expect(taken).toMatchObject({ ok: false, reason: 'clientTaken' });
      expect(taken.ok === false && taken.reason === 'clientTaken' ? [...taken.ids].sort() : []).toEqual([1, 3]);
      expect(await versionOf(storage.log, docA)).toBe(2); // nothing written, not even id 4
      accepted(await writeWith(storage.log, docA, bob!.id, [4]));
      expect(await writeWith(storage.log, docA, alice!.id, [4])).toEqual({ ok: false, reason: 'clientTaken', ids: [4] });
      accepted(await writeWith(storage.log, docB, bob!.id, [1])); // another document: free
      accepted(await writeWith(storage.log, docA, bob!.id, []));
      expect(await versionOf(storage.log, docA)).toBe(4);
    });

    it(`allows a user ${CLIENTS_PER_DOC_PER_DAY} new ids per document a day`, async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const [doc, otherDoc] = [segmentDoc(group.id, 0), segmentDoc(group.id, 1)];
      const half = CLIENTS_PER_DOC_PER_DAY / 2;
      accepted(await writeWith(storage.log, doc, alice!.id, range(1, half)));
      accepted(await writeWith(storage.log, doc, alice!.id, range(half + 1, CLIENTS_PER_DOC_PER_DAY), NOW + 1_000));
      const refused = { ok: false, reason: 'tooManyClients', limit: CLIENTS_PER_DOC_PER_DAY };
      expect(await writeWith(storage.log, doc, alice!.id, [5, 100_000], NOW + 2_000)).toEqual(refused);
      expect(await versionOf(storage.log, doc)).toBe(2);
      // Ids she already has cost nothing; others' budgets and other documents are their own.
      accepted(await writeWith(storage.log, doc, alice!.id, range(1, 20), NOW + 3_000));
      accepted(await writeWith(storage.log, doc, bob!.id, [200_000], NOW + 3_000));
      accepted(await writeWith(storage.log, otherDoc, alice!.id, [100_000], NOW + 3_000));
      // A day after the first claims, half her budget is back.
      accepted(await writeWith(storage.log, doc, alice!.id, range(100_000, 100_000 + half - 1), NOW + CLAIM_WINDOW_MS + 1));
      expect(await writeWith(storage.log, doc, alice!.id, [300_000], NOW + CLAIM_WINDOW_MS + 1)).toEqual(refused);
      // One write with more new ids than the whole budget is refused outright.
      expect(await writeWith(storage.log, otherDoc, bob!.id, range(1, CLIENTS_PER_DOC_PER_DAY + 1))).toEqual(refused);
    });

    it('give one owner when two users write with the same id at once through two instances', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const docs = range(0, 4).map((segment) => segmentDoc(group.id, segment));
      const outcomes = await Promise.all(
        docs.flatMap((doc) => [
          commitLatest(storage.log, { doc, entry: entryBytes(), clients: { userId: alice!.id, ids: [7] } }),
          commitLatest(second.log, { doc, entry: entryBytes(), clients: { userId: bob!.id, ids: [7] } }),
        ]),
      );
      for (const [index, doc] of docs.entries()) {
        const pair = outcomes.slice(index * 2, index * 2 + 2);
        expect(pair.filter((outcome) => outcome.ok)).toHaveLength(1);
        expect(pair.filter((outcome) => !outcome.ok)).toEqual([{ ok: false, reason: 'clientTaken', ids: [7] }]);
        expect(await versionOf(storage.log, doc)).toBe(1);
        // The loser stays the loser; the winner keeps writing with it.
        const winner = pair[0]!.ok ? alice! : bob!;
        const loser = pair[0]!.ok ? bob! : alice!;
        expect(await writeWith(second.log, doc, loser.id, [7])).toMatchObject({ ok: false, reason: 'clientTaken' });
        accepted(await writeWith(storage.log, doc, winner.id, [7]));
      }
    });
  });
}
