// Creating conversations and changing who is in them: the rules (who may add or remove whom),
// then storage, then the open documents that show it.
import { randomUUID } from 'node:crypto';
import {
  Limits,
  OutpostError,
  type ConversationId,
  type ConversationSummary,
  type CreateConversationRequest,
  type MessageId,
  type MessagePlace,
  type UserId,
} from '@outpost/shared-schema';
import type { ConversationRecord, Storage } from '@outpost/storage';
import type { Audit } from './audit/Audit.ts';
import type { SyncEngine } from './sync/SyncEngine.ts';

export class Conversations {
  readonly #storage: Storage;
  readonly #sync: SyncEngine;
  readonly #audit: Audit;

  constructor(storage: Storage, sync: SyncEngine, audit: Audit) {
    this.#storage = storage;
    this.#sync = sync;
    this.#audit = audit;
  }

  async create(userId: UserId, request: CreateConversationRequest): Promise<{ conversation: ConversationSummary; created: boolean }> {
    const now = Date.now();
    const id = randomUUID() as ConversationId;
    if (request.kind === 'dm') {
      const other = request.userId as UserId;
      if (other === userId) throw new OutpostError('invalidInput', 'a direct conversation needs another person', { field: 'userId' });
      await this.#requireUsers([other]);
      const result = await this.#storage.conversations.createConversation({
        id, kind: 'dm', title: '', createdBy: userId, createdAt: now,
        members: [{ userId, role: 'member' }, { userId: other, role: 'member' }],
      });
      if (result.created) await this.#sync.membershipChanged(result.conversation.id, [userId, other]);
      return { conversation: await this.#summary(result.conversation), created: result.created };
    }
    const others = [...new Set(request.memberIds as UserId[])].filter((m) => m !== userId);
    await this.#requireUsers(others);
    const result = await this.#storage.conversations.createConversation({
      id, kind: 'group', title: request.title, createdBy: userId, createdAt: now,
      members: [{ userId, role: 'owner' }, ...others.map((m) => ({ userId: m, role: 'member' as const }))],
    });
    await this.#sync.membershipChanged(result.conversation.id, [userId, ...others]);
    for (const added of others) await this.#audit.record('member.added', userId, added, { conversation: id });
    return { conversation: await this.#summary(result.conversation), created: true };
  }

  async list(userId: UserId): Promise<ConversationSummary[]> {
    const conversations = await this.#storage.conversations.listConversations(userId);
    return Promise.all(conversations.map((c) => this.#summary(c)));
  }

  async get(userId: UserId, id: ConversationId): Promise<ConversationSummary> {
    return this.#summary(await this.#requireMember(userId, id));
  }

  async addMembers(userId: UserId, id: ConversationId, userIds: readonly UserId[]): Promise<ConversationSummary> {
    const conversation = await this.#requireMember(userId, id);
    if (conversation.kind !== 'group') throw new OutpostError('invalidInput', 'members of a direct conversation cannot change');
    await this.#requireModerator(userId, id);
    await this.#requireUsers(userIds);
    const members = await this.#storage.conversations.getMembers(id);
    const adding = userIds.filter((u) => !members.some((m) => m.userId === u));
    if (members.length + adding.length > Limits.groupMembers) {
      throw new OutpostError('tooLarge', `a group holds at most ${Limits.groupMembers} members`);
    }
    await this.#storage.conversations.addMembers(id, adding, 'member', Date.now(), userId);
    await this.#sync.membershipChanged(id, adding);
    for (const added of adding) await this.#audit.record('member.added', userId, added, { conversation: id });
    return this.#summary(conversation);
  }

  /** Owners and admins rename a group; every member's list shows the new title. */
  async rename(userId: UserId, id: ConversationId, title: string): Promise<ConversationSummary> {
    const conversation = await this.#requireMember(userId, id);
    if (conversation.kind !== 'group') throw new OutpostError('invalidInput', 'a direct conversation has no title to change');
    await this.#requireModerator(userId, id, 'only the owner or an admin can rename the group');
    await this.#storage.conversations.setTitle(id, title, userId, Date.now());
    await this.#sync.membershipChanged(id, (await this.#storage.conversations.getMembers(id)).map((m) => m.userId));
    return this.#summary({ ...conversation, title });
  }

  /** The owner makes members admins (who may add, remove and delete others' messages) or members again. */
  async setRole(userId: UserId, id: ConversationId, target: UserId, role: 'admin' | 'member'): Promise<void> {
    const conversation = await this.#requireMember(userId, id);
    if (conversation.kind !== 'group') throw new OutpostError('invalidInput', 'a direct conversation has no roles');
    if ((await this.#storage.conversations.getMemberRole(id, userId)) !== 'owner') throw new OutpostError('forbidden', 'only the owner changes roles');
    if (target === userId) throw new OutpostError('invalidInput', 'the owner stays the owner');
    if (!(await this.#storage.conversations.setMemberRole(id, target, role))) throw new OutpostError('notFound', 'that user is not a member');
    await this.#audit.record('role.changed', userId, target, { conversation: id, role });
    await this.#sync.membershipChanged(id, []);
  }

  /** Owners and admins remove others; anyone may remove themselves (leave). */
  async removeMember(userId: UserId, id: ConversationId, target: UserId): Promise<void> {
    const conversation = await this.#requireMember(userId, id);
    if (conversation.kind !== 'group') throw new OutpostError('invalidInput', 'members of a direct conversation cannot change');
    if (target !== userId) {
      await this.#requireModerator(userId, id);
      if ((await this.#storage.conversations.getMemberRole(id, target)) === 'owner') throw new OutpostError('forbidden', 'the owner cannot be removed');
    }
    if (!(await this.#storage.conversations.removeMember(id, target, target === userId ? null : userId, Date.now()))) {
      throw new OutpostError('notFound', 'that user is not a member');
    }
    await this.#audit.record('member.removed', userId, target, { conversation: id });
    await this.#sync.membershipChanged(id, [], [target]);
  }

  /** The segment and number of a message, for a deep link on a device that has not loaded its history. */
  async place(userId: UserId, id: ConversationId, messageId: MessageId): Promise<MessagePlace> {
    await this.#requireMember(userId, id);
    const message = await this.#storage.projection.getMessage(id, messageId);
    if (!message) throw new OutpostError('notFound', 'no such message in this conversation (it may not be numbered yet)');
    return { segment: message.segment, seq: message.seq };
  }

  async #requireMember(userId: UserId, id: ConversationId): Promise<ConversationRecord> {
    const conversation = await this.#storage.conversations.getConversation(id);
    // Not found and not a member look the same, so ids of others' conversations leak nothing.
    if (!conversation || !(await this.#storage.conversations.getMemberRole(id, userId))) throw new OutpostError('notFound', 'no such conversation');
    return conversation;
  }

  async #requireModerator(userId: UserId, id: ConversationId, message = 'only the owner or an admin can change members'): Promise<void> {
    const role = await this.#storage.conversations.getMemberRole(id, userId);
    if (role !== 'owner' && role !== 'admin') throw new OutpostError('forbidden', message);
  }

  async #requireUsers(ids: readonly UserId[]): Promise<void> {
    const found = new Set((await this.#storage.accounts.getUsersByIds(ids)).map((u) => u.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new OutpostError('invalidInput', 'unknown user', { userIds: missing });
  }

  async #summary(conversation: ConversationRecord): Promise<ConversationSummary> {
    const members = await this.#storage.conversations.getMembers(conversation.id);
    return {
      id: conversation.id,
      kind: conversation.kind,
      title: conversation.title,
      createdBy: conversation.createdBy,
      createdAt: conversation.createdAt,
      lastSeq: conversation.lastSeq,
      members: members.map((m) => ({ userId: m.userId, role: m.role })),
    };
  }
}
