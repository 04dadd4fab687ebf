// The contract for attached files: bytes come back as stored (from another instance too, as a
// file uploaded through one node is served by another), keys are checked against the bytes, a
// message is numbered only when every file it names is its author's upload to that conversation,
// recorded as named, and carried by no other message; files go with deleted messages and
// forgotten uploads, and their blobs at the next collection.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AttachmentEntry, ConversationId, UserId } from '@outpost/shared-schema';
import type { ConversationRecord, NewFile, NewMessage, Storage, UserRecord } from '../../Storage.ts';
import { accepted, commitOne, createGroup, createUsers, newMessage, NOW, numberingWrite, versionOf, type ContractContext } from './context.ts';

function keyOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Yields `bytes` in uneven pieces, as a network would. */
function pieces(bytes: Uint8Array): () => AsyncIterable<Uint8Array> {
  return async function* () {
    for (let at = 0, step = 1; at < bytes.byteLength; at += step, step = (step * 7 + 13) % 300_000 || 1) yield bytes.subarray(at, at + step);
  };
}

async function readAll(storage: Storage, key: string): Promise<Uint8Array | null> {
  const blob = await storage.files.readBlob(key);
  if (!blob) return null;
  const parts: Uint8Array[] = [];
  for await (const chunk of blob.chunks) parts.push(chunk);
  const bytes = new Uint8Array(Buffer.concat(parts));
  expect(bytes.byteLength).toBe(blob.size);
  return bytes;
}

/** Stores `bytes` as the original of a new file by `uploader` in `conversation`. */
async function upload(storage: Storage, conversation: ConversationRecord, uploader: UserRecord, bytes: Uint8Array, createdAt = NOW): Promise<NewFile> {
  const key = keyOf(bytes);
  await storage.files.putBlob(key, pieces(bytes));
  const file: NewFile = {
    entry: { id: randomUUID(), name: 'meter reading.pdf', type: 'application/pdf', size: bytes.byteLength },
    conversationId: conversation.id,
    uploader: uploader.id,
    blobs: { original: key, display: null, thumb: null },
    createdAt,
  };
  expect((await storage.files.createFile(file)).created).toBe(true);
  return file;
}

function carrying(author: UserRecord, ...entries: AttachmentEntry[]): NewMessage {
  return { ...newMessage(author, 0, ''), attachments: entries };
}

async function number(storage: Storage, conversationId: ConversationId, list: readonly NewMessage[]) {
  const write = numberingWrite(conversationId, 0, list);
  return commitOne(storage.log, { ...write, base: await versionOf(storage.log, write.doc) });
}

export function filesContract(context: ContractContext): void {
  describe('files', () => {
    it('gives back the bytes stored under their hash, from another instance too', async () => {
      const storage = context.storage();
      const bytes = new Uint8Array(randomBytes(1_300_000));
      const key = keyOf(bytes);
      await storage.files.putBlob(key, pieces(bytes));
      expect(await readAll(storage, key)).toEqual(bytes);
      expect(await readAll(await context.second(), key)).toEqual(bytes);
      // Storing it again reads nothing: the bytes are there.
      await storage.files.putBlob(key, () => {
        throw new Error('read again');
      });
      const empty = new Uint8Array(0);
      await storage.files.putBlob(keyOf(empty), pieces(empty));
      expect(await readAll(storage, keyOf(empty))).toEqual(empty);
      expect(await storage.files.readBlob(keyOf(new Uint8Array([1])))).toBeNull();
      expect(await storage.files.readBlob('../../etc/passwd')).toBeNull();
    });

    it('refuses bytes that are not what their key says, and keeps nothing of them', async () => {
      const storage = context.storage();
      const bytes = new Uint8Array(randomBytes(700_000));
      const key = keyOf(bytes);
      const forged = new Uint8Array(bytes);
      forged[600_000] = (forged[600_000]! + 1) % 256;
      await expect(storage.files.putBlob(key, pieces(forged))).rejects.toThrow(/hash/);
      expect(await storage.files.readBlob(key)).toBeNull();
      await expect(storage.files.putBlob('not-a-key', pieces(bytes))).rejects.toThrow();
      await storage.files.putBlob(key, pieces(bytes));
      expect(await readAll(storage, key)).toEqual(bytes);
    });

    it('records a file once under its id and counts what each user stored', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const file = await upload(storage, group, alice!, new Uint8Array(randomBytes(1000)));
      expect(await storage.files.getFile(file.entry.id)).toEqual({ ...file, messageId: null });
      const again = await storage.files.createFile({ ...file, uploader: bob!.id, entry: { ...file.entry, name: 'other.pdf' } });
      expect(again).toEqual({ created: false, file: { ...file, messageId: null } });
      await upload(storage, group, alice!, new Uint8Array(randomBytes(500)));
      expect(await storage.files.usage(alice!.id)).toBe(1500);
      expect(await storage.files.usage(bob!.id)).toBe(0);
      expect(await storage.files.getFile(randomUUID())).toBeNull();
      const image: NewFile = {
        ...file,
        entry: { id: randomUUID(), name: 'pump.jpg', type: 'image/jpeg', size: 10, width: 4000, height: 3000, placeholder: 'data:image/webp;base64,AAAA' },
        blobs: { original: file.blobs.original, display: file.blobs.original, thumb: file.blobs.original },
      };
      await storage.files.createFile(image);
      expect(await storage.files.getFile(image.entry.id)).toEqual({ ...image, messageId: null });
    });

    it('numbers a message only when it may carry every file it names', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const other = await createGroup(storage, alice!, [bob!]);
      const mine = await upload(storage, group, alice!, new Uint8Array([1]));
      const second = await upload(storage, group, alice!, new Uint8Array([2]));
      const bobs = await upload(storage, group, bob!, new Uint8Array([3]));
      const elsewhere = await upload(storage, other, alice!, new Uint8Array([4]));
      const missing: AttachmentEntry = { id: randomUUID(), name: 'x.pdf', type: 'application/pdf', size: 1 };

      const refused = async (message: NewMessage, bad: string) => {
        expect(await number(storage, group.id, [message])).toEqual({ ok: false, reason: 'badAttachment', ids: [bad] });
      };
      await refused(carrying(alice!, missing), missing.id);
      await refused(carrying(alice!, mine.entry, bobs.entry), bobs.entry.id);
      await refused(carrying(alice!, elsewhere.entry), elsewhere.entry.id);
      await refused(carrying(alice!, { ...mine.entry, size: 2 }), mine.entry.id);
      await refused(carrying(alice!, { ...mine.entry, type: 'image/png', width: 1, height: 1 }), mine.entry.id);
      // Two messages of one write cannot both carry a file.
      expect(await number(storage, group.id, [carrying(alice!, mine.entry), carrying(alice!, mine.entry)])).toEqual({
        ok: false,
        reason: 'badAttachment',
        ids: [mine.entry.id],
      });
      expect((await storage.files.getFile(mine.entry.id))?.messageId).toBeNull();

      const message = carrying(alice!, mine.entry, second.entry);
      const numbered = accepted(await number(storage, group.id, [message]));
      expect(numbered.numbers.map((n) => n.seq)).toEqual([1]);
      expect((await storage.files.getFile(mine.entry.id))?.messageId).toBe(message.id);
      expect((await storage.files.getFile(second.entry.id))?.messageId).toBe(message.id);
      // The same message arriving again (another node, a re-sync) keeps its number.
      expect(accepted(await number(storage, group.id, [message])).numbers).toEqual(numbered.numbers);
      // Another message cannot carry it now.
      await refused(carrying(alice!, mine.entry), mine.entry.id);
    });

    it('forgets the files of a deleted message and uploads no message carried, then collects their blobs', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const kept = await upload(storage, group, alice!, new Uint8Array([1, 1]), NOW);
      const deleted = await upload(storage, group, alice!, new Uint8Array([2, 2]), NOW);
      const forgotten = await upload(storage, group, alice!, new Uint8Array([3, 3]), NOW);
      const recent = await upload(storage, group, alice!, new Uint8Array([4, 4]), NOW + 10_000);
      const keep = carrying(alice!, kept.entry);
      const remove = carrying(alice!, deleted.entry);
      accepted(await number(storage, group.id, [keep, remove]));

      await storage.projection.applyMessageStates([{ conversationId: group.id, id: remove.id, edit: null, deletedAt: NOW + 1 }]);
      expect(await storage.files.getFile(deleted.entry.id)).toBeNull();
      expect(await storage.files.deleteUnattached(NOW + 5_000)).toBe(1);
      expect(await storage.files.getFile(forgotten.entry.id)).toBeNull();
      expect(await storage.files.getFile(recent.entry.id)).not.toBeNull();
      expect(await storage.files.getFile(kept.entry.id)).not.toBeNull();
      expect(await storage.files.usage(alice!.id)).toBe(4);

      // Blobs stored just now are spared; once older than the cut-off, unreferenced ones go.
      expect(await storage.files.collectBlobs(Date.now() - 3_600_000)).toBe(0);
      expect(await storage.files.collectBlobs(Date.now() + 1)).toBe(2);
      expect(await storage.files.readBlob(deleted.blobs.original)).toBeNull();
      expect(await storage.files.readBlob(forgotten.blobs.original)).toBeNull();
      expect(await readAll(storage, kept.blobs.original)).toEqual(new Uint8Array([1, 1]));
      expect(await readAll(storage, recent.blobs.original)).toEqual(new Uint8Array([4, 4]));
    });

    it('keeps a blob that a new upload stored again after it fell out of use', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const bytes = new Uint8Array([9, 9, 9]);
      const first = await upload(storage, group, alice!, bytes, NOW);
      expect(await storage.files.deleteUnattached(NOW + 1)).toBe(1);
      const cutOff = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5));
      // The same bytes uploaded again: stored_at moves on, so a collection up to before then spares them.
      const again = await upload(storage, group, alice!, bytes, Date.now());
      expect(again.blobs.original).toBe(first.blobs.original);
      expect(await storage.files.collectBlobs(cutOff)).toBe(0);
      expect(await readAll(storage, first.blobs.original)).toEqual(bytes);
    });

    it('keeps files whose conversation members change (access is the server’s business)', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      const file = await upload(storage, group, bob!, new Uint8Array([7]));
      await storage.conversations.removeMember(group.id, bob!.id as UserId, alice!.id as UserId, NOW);
      expect((await storage.files.getFile(file.entry.id))?.uploader).toBe(bob!.id);
    });
  });
}
