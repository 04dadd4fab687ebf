// The contract for export and erase (the tables' side), and for moderation's tables: an export
// holds the person's own records and nobody else's; an erase leaves no name, no password and no
// session, once; posting locks and reports read back as written.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { ERASED_DISPLAY_NAME, erasedUsername } from '../../Privacy.ts';
import { NOW, accepted, commitOne, createGroup, createUsers, newMessage, numberingWrite, type ContractContext } from './context.ts';

const HOUR = 3_600_000;

export function privacyContract(context: ContractContext): void {
  describe('export and erase', () => {
    it('an account’s facts are its profile, sessions, messages and files — nobody else’s', async () => {
      const storage = context.storage();
      const [ada, bob] = await createUsers(storage, 'ada', 'bob');
      const group = await createGroup(storage, ada!, [bob!]);
      const mine = newMessage(ada!, 0, 'ada writes');
      const theirs = newMessage(bob!, 0, 'bob writes');
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [mine, theirs])));
      const family = randomUUID();
      await storage.accounts.createRefreshToken({ id: randomUUID(), familyId: family, userId: ada!.id, tokenHash: createHash('sha256').update('t').digest('hex'), expiresAt: NOW + HOUR, createdAt: NOW });

      const facts = await storage.privacy.accountFacts(ada!.id, NOW);
      expect(facts?.user).toEqual({ id: ada!.id, username: 'ada', displayName: 'ada', createdAt: ada!.createdAt, erasedAt: null });
      expect(facts?.sessions).toEqual([{ id: family, createdAt: NOW, lastUsedAt: NOW, expiresAt: NOW + HOUR, active: true }]);
      expect(facts?.messages.map((m) => [m.id, m.body, m.seq])).toEqual([[mine.id, 'ada writes', 1]]);
      expect(facts?.files).toEqual([]);
      expect(await storage.privacy.accountFacts(randomUUID() as UserId, NOW)).toBeNull();
    });

    it('erasing an account anonymizes it, revokes every session and forgets its files, once', async () => {
      const storage = context.storage();
      const [ada] = await createUsers(storage, 'ada');
      const family = randomUUID();
      await storage.accounts.createRefreshToken({ id: randomUUID(), familyId: family, userId: ada!.id, tokenHash: createHash('sha256').update('a').digest('hex'), expiresAt: NOW + HOUR, createdAt: NOW });
      const group = await createGroup(storage, ada!);
      await storage.files.createFile({
        entry: { id: randomUUID(), name: 'notes.txt', type: 'text/plain', size: 3 },
        conversationId: group.id,
        uploader: ada!.id,
        blobs: { original: 'a'.repeat(64), display: null, thumb: null },
        createdAt: NOW,
      });
      const mine = newMessage(ada!);
      accepted(await commitOne(storage.log, numberingWrite(group.id, 0, [mine])));

      expect(await storage.privacy.messagesWithText(ada!.id)).toEqual([{ conversationId: group.id, id: mine.id, segment: 0 }]);
      expect(await storage.privacy.eraseAccount(ada!.id, NOW + 1)).toEqual({ sessions: [family] });
      const user = await storage.accounts.getUserById(ada!.id);
      expect(user).toMatchObject({ username: erasedUsername(ada!.id), displayName: ERASED_DISPLAY_NAME });
      expect(user?.passwordHash.startsWith('scrypt$')).toBe(false);
      expect(await storage.accounts.getUserByUsername('ada')).toBeNull();
      expect(await storage.accounts.isSessionActive(family, NOW + 2)).toBe(false);
      expect((await storage.privacy.accountFacts(ada!.id, NOW + 2))?.files).toEqual([]);
      expect(await storage.privacy.erasedAt(ada!.id)).toBe(NOW + 1);
      // Again: nothing left to revoke, and the time of the first erase stays.
      expect(await storage.privacy.eraseAccount(ada!.id, NOW + 5)).toEqual({ sessions: [] });
      expect(await storage.privacy.erasedAt(ada!.id)).toBe(NOW + 1);
      expect(await storage.privacy.eraseAccount(randomUUID() as UserId, NOW)).toBeNull();
    });
  });

  describe('moderation', () => {
    it('a group is locked to admins-only posting and unlocked again', async () => {
      const storage = context.storage();
      const [ada] = await createUsers(storage, 'ada');
      const group = await createGroup(storage, ada!);
      expect(await storage.moderation.getPosting(group.id)).toBe('everyone');
      expect(await storage.moderation.setPosting(group.id, 'admins')).toBe(true);
      expect(await storage.moderation.getPosting(group.id)).toBe('admins');
      expect(await storage.moderation.setPosting(group.id, 'everyone')).toBe(true);
      expect(await storage.moderation.getPosting(group.id)).toBe('everyone');
      expect(await storage.moderation.setPosting(randomUUID() as ConversationId, 'admins')).toBe(false);
    });

    it('a report is filed once per reporter and message, listed newest first, and resolved once', async () => {
      const storage = context.storage();
      const [ada, bob, cy] = await createUsers(storage, 'ada', 'bob', 'cy');
      const group = await createGroup(storage, ada!, [bob!, cy!]);
      const messageId = randomUUID() as MessageId;
      const first = await storage.moderation.createReport({ id: randomUUID(), conversationId: group.id, messageId, reporter: bob!.id, reason: 'spam', createdAt: NOW });
      expect(first.created).toBe(true);
      const again = await storage.moderation.createReport({ id: randomUUID(), conversationId: group.id, messageId, reporter: bob!.id, reason: 'spam!!', createdAt: NOW + 1 });
      expect(again).toEqual({ created: false, report: first.report });
      const second = await storage.moderation.createReport({ id: randomUUID(), conversationId: group.id, messageId, reporter: cy!.id, reason: 'rude', createdAt: NOW + 2 });
      expect((await storage.moderation.listReports({ open: true, limit: 10 })).map((r) => r.reason)).toEqual(['rude', 'spam']);
      expect(await storage.moderation.resolveReport(second.report.id, ada!.id, NOW + 3)).toBe(true);
      expect(await storage.moderation.resolveReport(second.report.id, ada!.id, NOW + 4)).toBe(false);
      expect((await storage.moderation.listReports({ open: true, limit: 10 })).map((r) => r.reason)).toEqual(['spam']);
      expect(await storage.moderation.getReport(second.report.id)).toMatchObject({ resolvedBy: ada!.id, resolvedAt: NOW + 3 });
      expect(await storage.moderation.listReports({ open: false, limit: 10 })).toHaveLength(2);
    });
  });
}
