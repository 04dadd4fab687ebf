// The contract for conversations: a DM exists once per pair however it is opened, membership
// changes report what they changed, and the head segment only moves forward, once.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ConversationId } from '@outpost/shared-schema';
import type { NewConversation, UserRecord } from '../../Storage.ts';
import { createGroup, createUsers, type ContractContext } from './context.ts';

function direct(from: UserRecord, to: UserRecord, createdAt = 1_700_000_001_000): NewConversation {
  return {
    id: randomUUID() as ConversationId,
    kind: 'dm',
    title: '',
    createdBy: from.id,
    createdAt,
    members: [
      { userId: from.id, role: 'member' },
      { userId: to.id, role: 'member' },
    ],
  };
}

export function conversationsContract(context: ContractContext): void {
  describe('conversations', () => {
    it('creates a group with its members and lists it for members only', async () => {
      const storage = context.storage();
      const [alice, bob, carol] = await createUsers(storage, 'alice', 'bob', 'carol');
      const group = await createGroup(storage, alice!, [bob!], 1_700_000_005_000);
      expect(group).toMatchObject({ kind: 'group', title: 'a group', createdBy: alice!.id, createdAt: 1_700_000_005_000, head: 0, lastSeq: 0 });
      expect(await storage.getConversation(group.id)).toEqual(group);
      expect(await storage.getConversation(randomUUID() as ConversationId)).toBeNull();
      const members = await storage.getMembers(group.id);
      expect(new Map(members.map((member) => [member.userId, member.role]))).toEqual(
        new Map([
          [alice!.id, 'owner'],
          [bob!.id, 'member'],
        ]),
      );
      expect(members.every((member) => member.joinedAt === 1_700_000_005_000)).toBe(true);
      expect(await storage.getMemberRole(group.id, alice!.id)).toBe('owner');
      expect(await storage.getMemberRole(group.id, carol!.id)).toBeNull();
      expect((await storage.listConversations(bob!.id)).map((conversation) => conversation.id)).toEqual([group.id]);
      expect(await storage.listConversations(carol!.id)).toEqual([]);
    });

    it('allows many groups with the same members', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const first = await createGroup(storage, alice!, [bob!]);
      const second = await createGroup(storage, alice!, [bob!]);
      expect(first.id).not.toBe(second.id);
      expect(await storage.listConversations(bob!.id)).toHaveLength(2);
    });

    it('opens a DM once per pair, whichever side asks and however often', async () => {
      const storage = context.storage();
      const [alice, bob, carol] = await createUsers(storage, 'alice', 'bob', 'carol');
      const first = await storage.createConversation(direct(alice!, bob!));
      expect(first.created).toBe(true);
      const again = direct(bob!, alice!);
      const second = await storage.createConversation(again);
      expect(second).toEqual({ conversation: first.conversation, created: false });
      expect(await storage.getConversation(again.id)).toBeNull();
      expect(await storage.listConversations(alice!.id)).toEqual([first.conversation]);
      const other = await storage.createConversation(direct(alice!, carol!));
      expect(other.created).toBe(true);
      expect(other.conversation.id).not.toBe(first.conversation.id);
    });

    it('opens one DM when both sides ask at the same moment through different instances', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const results = await Promise.all([
        storage.createConversation(direct(alice!, bob!)),
        second.createConversation(direct(bob!, alice!)),
        storage.createConversation(direct(bob!, alice!)),
        second.createConversation(direct(alice!, bob!)),
      ]);
      expect(new Set(results.map((result) => result.conversation.id)).size).toBe(1);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(await storage.listConversations(alice!.id)).toHaveLength(1);
      expect(await storage.getMembers(results[0]!.conversation.id)).toHaveLength(2);
    });
  });

  describe('members', () => {
    it('adds only new members, keeping the role of existing ones', async () => {
      const storage = context.storage();
      const [alice, bob, carol, dave] = await createUsers(storage, 'alice', 'bob', 'carol', 'dave');
      const group = await createGroup(storage, alice!, [bob!]);
      const added = await storage.addMembers(group.id, [carol!.id, alice!.id, dave!.id, carol!.id], 'admin', 1_700_000_009_000);
      expect(added).toEqual([carol!.id, dave!.id]);
      expect(await storage.getMemberRole(group.id, alice!.id)).toBe('owner');
      expect(await storage.getMemberRole(group.id, carol!.id)).toBe('admin');
      const carolEntry = (await storage.getMembers(group.id)).find((member) => member.userId === carol!.id);
      expect(carolEntry).toEqual({ userId: carol!.id, role: 'admin', joinedAt: 1_700_000_009_000 });
      expect(await storage.addMembers(group.id, [carol!.id], 'member', 1_700_000_010_000)).toEqual([]);
    });

    it('removes a member, reporting whether they were one', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      expect(await storage.removeMember(group.id, bob!.id)).toBe(true);
      expect(await storage.getMemberRole(group.id, bob!.id)).toBeNull();
      expect(await storage.listConversations(bob!.id)).toEqual([]);
      expect(await storage.removeMember(group.id, bob!.id)).toBe(false);
      expect((await storage.getMembers(group.id)).map((member) => member.userId)).toEqual([alice!.id]);
      expect(await storage.setMemberRole(group.id, alice!.id, 'admin')).toBe(true);
      expect(await storage.getMemberRole(group.id, alice!.id)).toBe('admin');
      expect(await storage.setMemberRole(group.id, bob!.id, 'admin')).toBe(false); // not a member any more
      expect(await storage.setTitle(group.id, 'renamed')).toBe(true);
      expect((await storage.getConversation(group.id))?.title).toBe('renamed');
      expect(await storage.setTitle(randomUUID() as ConversationId, 'nobody')).toBe(false);
    });

    it('refuses to add members to a conversation that does not exist', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      await expect(storage.addMembers(randomUUID() as ConversationId, [alice!.id], 'member', 1)).rejects.toMatchObject({ kind: 'notFound' });
    });
  });

  describe('head segment', () => {
    it('moves the head forward only from the segment it is still at', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      expect(await storage.advanceHead(group.id, 0)).toBe(1);
      expect(await storage.advanceHead(group.id, 0)).toBe(1);
      expect(await storage.advanceHead(group.id, 1)).toBe(2);
      expect((await storage.getConversation(group.id))?.head).toBe(2);
    });

    it('moves the head once when two nodes decide to move it at the same moment', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice] = await createUsers(storage, 'alice');
      const group = await createGroup(storage, alice!);
      const heads = await Promise.all([storage.advanceHead(group.id, 0), second.advanceHead(group.id, 0), storage.advanceHead(group.id, 0)]);
      expect(heads).toEqual([1, 1, 1]);
      expect((await second.getConversation(group.id))?.head).toBe(1);
    });
  });
}

