// The contract for conversations: a DM exists once per pair however it is opened, membership
// changes report what they changed, and people who left are remembered with who removed them.
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
      expect(await storage.conversations.getConversation(group.id)).toEqual(group);
      expect(await storage.conversations.getConversation(randomUUID() as ConversationId)).toBeNull();
      const members = await storage.conversations.getMembers(group.id);
      expect(new Map(members.map((member) => [member.userId, member.role]))).toEqual(
        new Map([
          [alice!.id, 'owner'],
          [bob!.id, 'member'],
        ]),
      );
      expect(members.every((member) => member.joinedAt === 1_700_000_005_000)).toBe(true);
      expect(await storage.conversations.getMemberRole(group.id, alice!.id)).toBe('owner');
      // Many pairs in one query: members with their roles, the rest left out.
      const roles = await storage.conversations.getMemberRoles([
        { conversationId: group.id, userId: alice!.id },
        { conversationId: group.id, userId: bob!.id },
        { conversationId: group.id, userId: carol!.id },
        { conversationId: randomUUID() as ConversationId, userId: alice!.id },
      ]);
      expect(new Set(roles.map((r) => `${r.userId}:${r.role}`))).toEqual(new Set([`${alice!.id}:owner`, `${bob!.id}:member`]));
      expect(roles.every((r) => r.conversationId === group.id)).toBe(true);
      expect(await storage.conversations.getMemberRoles([])).toEqual([]);
      expect(await storage.conversations.getMemberRole(group.id, carol!.id)).toBeNull();
      expect((await storage.conversations.listConversations(bob!.id)).map((conversation) => conversation.id)).toEqual([group.id]);
      expect(await storage.conversations.listConversations(carol!.id)).toEqual([]);
    });

    it('allows many groups with the same members', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const first = await createGroup(storage, alice!, [bob!]);
      const second = await createGroup(storage, alice!, [bob!]);
      expect(first.id).not.toBe(second.id);
      expect(await storage.conversations.listConversations(bob!.id)).toHaveLength(2);
    });

    it('lists a user\'s memberships with when they joined and a DM\'s other member, as listConversations orders them', async () => {
      const storage = context.storage();
      const [alice, bob, carol, dave] = await createUsers(storage, 'alice', 'bob', 'carol', 'dave');
      const team = await createGroup(storage, bob!, [carol!], 1_700_000_003_000);
      const { conversation: dm } = await storage.conversations.createConversation(direct(dave!, alice!, 1_700_000_001_000));
      const { conversation: gone } = await storage.conversations.createConversation(direct(alice!, carol!, 1_700_000_002_000));
      await storage.conversations.addMembers(team.id, [alice!.id], 'member', 1_700_000_007_000, bob!.id);
      await storage.conversations.removeMember(gone.id, carol!.id, null, 1_700_000_008_000);
      const memberships = await storage.conversations.listMemberships(alice!.id);
      expect(memberships.map((m) => m.conversation)).toEqual(await storage.conversations.listConversations(alice!.id));
      expect(memberships.map(({ conversation, joinedAt, peer }) => ({ id: conversation.id, joinedAt, peer }))).toEqual([
        { id: dm.id, joinedAt: 1_700_000_001_000, peer: dave!.id },
        { id: gone.id, joinedAt: 1_700_000_002_000, peer: null },
        { id: team.id, joinedAt: 1_700_000_007_000, peer: null },
      ]);
      expect(await storage.conversations.listMemberships(randomUUID() as UserRecord['id'])).toEqual([]);
    });

    it('lists who shares a conversation with a user, once per shared conversation, members only', async () => {
      const storage = context.storage();
      const [alice, bob, carol, dave, erin] = await createUsers(storage, 'alice', 'bob', 'carol', 'dave', 'erin');
      const team = await createGroup(storage, alice!, [bob!, carol!]);
      const pair = await createGroup(storage, bob!, [alice!]);
      const { conversation: dm } = await storage.conversations.createConversation(direct(alice!, dave!));
      await createGroup(storage, erin!, [bob!]); // alice is not in it
      await createGroup(storage, alice!); // alone: nobody to show
      const contacts = async (user: UserRecord) => (await storage.conversations.listContacts(user.id)).map((c) => `${c.userId} ${c.conversationId}`).sort();
      const expected = [`${bob!.id} ${team.id}`, `${carol!.id} ${team.id}`, `${bob!.id} ${pair.id}`, `${dave!.id} ${dm.id}`].sort();
      expect(await contacts(alice!)).toEqual(expected);
      // Someone removed, or who left, is nobody's contact through that conversation any more.
      await storage.conversations.removeMember(team.id, carol!.id, alice!.id, 1_700_000_009_000);
      await storage.conversations.removeMember(pair.id, alice!.id, null, 1_700_000_009_000);
      expect(await contacts(alice!)).toEqual([`${bob!.id} ${team.id}`, `${dave!.id} ${dm.id}`].sort());
      expect(await contacts(carol!)).toEqual([]);
    });

    it('opens a DM once per pair, whichever side asks and however often', async () => {
      const storage = context.storage();
      const [alice, bob, carol] = await createUsers(storage, 'alice', 'bob', 'carol');
      const first = await storage.conversations.createConversation(direct(alice!, bob!));
      expect(first.created).toBe(true);
      const again = direct(bob!, alice!);
      const second = await storage.conversations.createConversation(again);
      expect(second).toEqual({ conversation: first.conversation, created: false });
      expect(await storage.conversations.getConversation(again.id)).toBeNull();
      expect(await storage.conversations.listConversations(alice!.id)).toEqual([first.conversation]);
      const other = await storage.conversations.createConversation(direct(alice!, carol!));
      expect(other.created).toBe(true);
      expect(other.conversation.id).not.toBe(first.conversation.id);
    });

    it('opens one DM when both sides ask at the same moment through different instances', async () => {
      const storage = context.storage();
      const second = await context.second();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const results = await Promise.all([
        storage.conversations.createConversation(direct(alice!, bob!)),
        second.conversations.createConversation(direct(bob!, alice!)),
        storage.conversations.createConversation(direct(bob!, alice!)),
        second.conversations.createConversation(direct(alice!, bob!)),
      ]);
      expect(new Set(results.map((result) => result.conversation.id)).size).toBe(1);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(await storage.conversations.listConversations(alice!.id)).toHaveLength(1);
      expect(await storage.conversations.getMembers(results[0]!.conversation.id)).toHaveLength(2);
    });
  });

  describe('members', () => {
    it('adds only new members, keeping the role of existing ones', async () => {
      const storage = context.storage();
      const [alice, bob, carol, dave] = await createUsers(storage, 'alice', 'bob', 'carol', 'dave');
      const group = await createGroup(storage, alice!, [bob!]);
      const added = await storage.conversations.addMembers(group.id, [carol!.id, alice!.id, dave!.id, carol!.id], 'admin', 1_700_000_009_000, alice!.id);
      expect(added).toEqual([carol!.id, dave!.id]);
      expect(await storage.conversations.getMemberRole(group.id, alice!.id)).toBe('owner');
      expect(await storage.conversations.getMemberRole(group.id, carol!.id)).toBe('admin');
      const carolEntry = (await storage.conversations.getMembers(group.id)).find((member) => member.userId === carol!.id);
      expect(carolEntry).toEqual({ userId: carol!.id, role: 'admin', joinedAt: 1_700_000_009_000 });
      expect(await storage.conversations.addMembers(group.id, [carol!.id], 'member', 1_700_000_010_000, alice!.id)).toEqual([]);
    });

    it('removes a member, reporting whether they were one', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const group = await createGroup(storage, alice!, [bob!]);
      expect(await storage.conversations.removeMember(group.id, bob!.id, alice!.id, 1_700_000_009_000)).toBe(true);
      expect(await storage.conversations.getMemberRole(group.id, bob!.id)).toBeNull();
      expect(await storage.conversations.listConversations(bob!.id)).toEqual([]);
      expect(await storage.conversations.removeMember(group.id, bob!.id, alice!.id, 1_700_000_010_000)).toBe(false);
      expect((await storage.conversations.getMembers(group.id)).map((member) => member.userId)).toEqual([alice!.id]);
      expect(await storage.conversations.setMemberRole(group.id, alice!.id, 'admin')).toBe(true);
      expect(await storage.conversations.getMemberRole(group.id, alice!.id)).toBe('admin');
      expect(await storage.conversations.setMemberRole(group.id, bob!.id, 'admin')).toBe(false); // not a member any more
      expect(await storage.conversations.setTitle(group.id, 'renamed', alice!.id, 1_700_000_011_000)).toBe(true);
      expect((await storage.conversations.getConversation(group.id))?.title).toBe('renamed');
      expect(await storage.conversations.setTitle(randomUUID() as ConversationId, 'nobody', alice!.id, 1_700_000_012_000)).toBe(false);
    });

    it('remembers a removed member with who removed them, until they are added again', async () => {
      const storage = context.storage();
      const [alice, bob, carol] = await createUsers(storage, 'alice', 'bob', 'carol');
      const group = await createGroup(storage, alice!, [bob!, carol!]);
      expect(await storage.conversations.getFormerMembers(group.id)).toEqual([]);
      await storage.conversations.removeMember(group.id, bob!.id, alice!.id, 1_700_000_009_000);
      await storage.conversations.removeMember(group.id, carol!.id, null, 1_700_000_008_000); // she left
      expect(await storage.conversations.getFormerMembers(group.id)).toEqual([
        { userId: carol!.id, leftAt: 1_700_000_008_000, removedBy: null },
        { userId: bob!.id, leftAt: 1_700_000_009_000, removedBy: alice!.id },
      ]);
      // Removing someone who is not a member remembers nothing new.
      expect(await storage.conversations.removeMember(group.id, bob!.id, carol!.id, 1_700_000_010_000)).toBe(false);
      expect((await storage.conversations.getFormerMembers(group.id)).find((former) => former.userId === bob!.id)?.removedBy).toBe(alice!.id);

      expect(await storage.conversations.addMembers(group.id, [bob!.id], 'member', 1_700_000_011_000, alice!.id)).toEqual([bob!.id]);
      expect((await storage.conversations.getFormerMembers(group.id)).map((former) => former.userId)).toEqual([carol!.id]);
      expect(await storage.conversations.listRemovals(bob!.id, 10)).toEqual([]);
      // Removed again later: remembered with the new time and remover.
      await storage.conversations.removeMember(group.id, bob!.id, null, 1_700_000_012_000);
      expect(await storage.conversations.getFormerMembers(group.id)).toEqual([
        { userId: carol!.id, leftAt: 1_700_000_008_000, removedBy: null },
        { userId: bob!.id, leftAt: 1_700_000_012_000, removedBy: null },
      ]);
    });

    it('lists the conversations a user was removed from, newest first, up to the limit', async () => {
      const storage = context.storage();
      const [alice, bob] = await createUsers(storage, 'alice', 'bob');
      const groups = [await createGroup(storage, alice!, [bob!]), await createGroup(storage, alice!, [bob!]), await createGroup(storage, alice!, [bob!])];
      await storage.conversations.removeMember(groups[0]!.id, bob!.id, alice!.id, 1_700_000_020_000);
      await storage.conversations.removeMember(groups[2]!.id, bob!.id, null, 1_700_000_030_000);
      await storage.conversations.removeMember(groups[1]!.id, bob!.id, alice!.id, 1_700_000_025_000);
      await storage.conversations.setTitle(groups[2]!.id, 'renamed after bob left', alice!.id, 1_700_000_031_000);
      const removals = await storage.conversations.listRemovals(bob!.id, 10);
      expect(removals).toEqual([
        { userId: bob!.id, leftAt: 1_700_000_030_000, removedBy: null, conversation: await storage.conversations.getConversation(groups[2]!.id) },
        { userId: bob!.id, leftAt: 1_700_000_025_000, removedBy: alice!.id, conversation: groups[1] },
        { userId: bob!.id, leftAt: 1_700_000_020_000, removedBy: alice!.id, conversation: groups[0] },
      ]);
      expect((await storage.conversations.listRemovals(bob!.id, 2)).map((removal) => removal.conversation.id)).toEqual([groups[2]!.id, groups[1]!.id]);
      expect(await storage.conversations.listRemovals(alice!.id, 10)).toEqual([]);
    });

    it('records what happened to a group, in the transaction of each change, and lists the latest events oldest first', async () => {
      const storage = context.storage();
      const [alice, bob, carol] = await createUsers(storage, 'alice', 'bob', 'carol');
      const group = await createGroup(storage, alice!, [bob!], 1_700_000_040_000);
      await storage.conversations.addMembers(group.id, [carol!.id, bob!.id], 'member', 1_700_000_041_000, bob!.id);
      await storage.conversations.setTitle(group.id, 'pump crew', alice!.id, 1_700_000_042_000);
      await storage.conversations.removeMember(group.id, carol!.id, alice!.id, 1_700_000_043_000);
      await storage.conversations.removeMember(group.id, bob!.id, null, 1_700_000_044_000);
      // What changed nothing is no event.
      await storage.conversations.removeMember(group.id, bob!.id, null, 1_700_000_045_000);
      await storage.conversations.addMembers(group.id, [alice!.id], 'member', 1_700_000_046_000, alice!.id);
      const events = await storage.conversations.listEvents(group.id, 10);
      expect(events.map(({ id: _id, ...event }) => event)).toEqual([
        { kind: 'created', at: 1_700_000_040_000, actor: alice!.id, subject: null, title: 'a group' },
        { kind: 'added', at: 1_700_000_041_000, actor: bob!.id, subject: carol!.id, title: null },
        { kind: 'renamed', at: 1_700_000_042_000, actor: alice!.id, subject: null, title: 'pump crew' },
        { kind: 'removed', at: 1_700_000_043_000, actor: alice!.id, subject: carol!.id, title: null },
        { kind: 'left', at: 1_700_000_044_000, actor: bob!.id, subject: null, title: null },
      ]);
      expect(events.map((event) => event.id)).toEqual([...events.map((event) => event.id)].sort((a, b) => a - b));
      expect((await storage.conversations.listEvents(group.id, 2)).map((event) => event.kind)).toEqual(['removed', 'left']);
      // A DM has no timeline; another conversation's events are its own.
      const dm = await storage.conversations.createConversation(direct(alice!, bob!));
      expect(await storage.conversations.listEvents(dm.conversation.id, 10)).toEqual([]);
    });

    it('refuses to add members to a conversation that does not exist', async () => {
      const storage = context.storage();
      const [alice] = await createUsers(storage, 'alice');
      await expect(storage.conversations.addMembers(randomUUID() as ConversationId, [alice!.id], 'member', 1, alice!.id)).rejects.toMatchObject({ kind: 'notFound' });
    });
  });
}
