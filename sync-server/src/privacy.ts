// A person's own data: the export archive (everything the server holds of them and nothing of
// anyone else's conversations) and erasing their account (sessions cut, profile anonymized, the
// text of every message they wrote removed for real, their reactions and drafts gone).
import * as Y from 'yjs';
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  OutpostError,
  UserRoots,
  parseReactionKey,
  readSegment,
  segmentDoc,
  segmentMaps,
  userDoc,
  type AccountExport,
  type ConversationId,
  type UserId,
} from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { Hocuspocus } from '@hocuspocus/server';
import type { Audit } from './audit/Audit.ts';
import { verifyPassword } from './auth/passwords.ts';
import type { Logger } from './log.ts';
import type { MessageRemoval } from './sync/messageRemoval.ts';
import type { SyncEngine } from './sync/SyncEngine.ts';
import type { WritePath } from './sync/writePath.ts';
import { SEGMENT_SERVER_CLIENT } from './sync/writePath.ts';
import type { Erasure } from './sync/erasure.ts';

/** What an export or erase needs of the node. */
export interface PrivacyParts {
  storage: Storage;
  sync: Pick<SyncEngine, 'sessionRevoked' | 'membershipChanged'>;
  removal: MessageRemoval;
  writePath: WritePath;
  erasure: Erasure;
  hocuspocus: () => Hocuspocus;
  audit: Audit;
  log: Logger;
}

export class AccountPrivacy {
  readonly #parts: PrivacyParts;

  constructor(parts: PrivacyParts) {
    this.#parts = parts;
  }

  /** The archive of everything the server holds of `userId`. */
  async exportArchive(userId: UserId): Promise<AccountExport> {
    const { storage } = this.#parts;
    const now = Date.now();
    const facts = await storage.privacy.accountFacts(userId, now);
    if (!facts || facts.user.erasedAt !== null) throw new OutpostError('unauthorized', 'this account no longer exists');
    const conversations = await storage.conversations.listConversations(userId);
    const exported: AccountExport['conversations'] = [];
    const reactionsOn = new Map<string, Record<string, string[]>>();
    const ownReactions: AccountExport['reactions'] = [];
    for (const conversation of conversations) {
      const members = await storage.conversations.getMembers(conversation.id);
      const users = new Map((await storage.accounts.getUsersByIds(members.map((m) => m.userId))).map((u) => [u.id, u]));
      exported.push({
        id: conversation.id,
        kind: conversation.kind,
        title: conversation.title,
        createdAt: conversation.createdAt,
        role: members.find((m) => m.userId === userId)?.role ?? 'member',
        members: members.map((m) => ({ userId: m.userId, username: users.get(m.userId)?.username ?? '', displayName: users.get(m.userId)?.displayName ?? '' })),
      });
      // Reactions live only in the segments: read them from the log, as any node would load them.
      for (let segment = 0; segment <= conversation.head; segment++) {
        const doc = await this.#loadFromLog(segmentDoc(conversation.id, segment));
        for (const [id, view] of readSegment(doc)) if (view.author === userId) reactionsOn.set(`${conversation.id}/${id}`, view.reactions);
        for (const [key, at] of segmentMaps(doc).reactions.entries()) {
          const parsed = parseReactionKey(key);
          if (parsed?.userId === userId) ownReactions.push({ conversationId: conversation.id, messageId: parsed.messageId, emoji: parsed.emoji, at });
        }
        doc.destroy();
      }
    }
    await this.#parts.audit.record('account.exported', userId, userId, { conversations: exported.length, messages: facts.messages.length });
    return {
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exportedAt: now,
      account: { id: facts.user.id, username: facts.user.username, displayName: facts.user.displayName, createdAt: facts.user.createdAt },
      sessions: facts.sessions,
      conversations: exported,
      messages: facts.messages.map((m) => ({
        conversationId: m.conversationId,
        id: m.id,
        seq: m.seq,
        createdAt: m.createdAt,
        sentBody: m.sentBody,
        body: m.body,
        editedAt: m.editedAt,
        deletedAt: m.deletedAt,
        replyTo: m.replyTo,
        reactions: reactionsOn.get(`${m.conversationId}/${m.id}`) ?? {},
      })),
      reactions: ownReactions,
      files: facts.files.map((f) => ({
        id: f.entry.id,
        conversationId: f.conversationId,
        name: f.entry.name,
        type: f.entry.type,
        size: f.entry.size,
        createdAt: f.createdAt,
        messageId: f.messageId,
        path: `/api/conversations/${f.conversationId}/files/${f.entry.id}/original`,
      })),
    };
  }

  /**
   * Erases `userId`'s account, confirmed by its password: sessions revoked (connections close
   * at once, on every node), profile anonymized, every message they wrote deleted for real, their
   * reactions and drafts removed. Memberships stay, shown as "Deleted user".
   */
  async erase(userId: UserId, password: string): Promise<void> {
    const { storage, sync, removal, log } = this.#parts;
    const user = await storage.accounts.getUserById(userId);
    if (!user || !(await verifyPassword(password, user.passwordHash))) throw new OutpostError('forbidden', 'the password is not right; the account was not erased');
    const erased = await storage.privacy.eraseAccount(userId, Date.now());
    if (!erased) throw new OutpostError('notFound', 'no such account');
    for (const session of erased.sessions) sync.sessionRevoked(session as Parameters<typeof sync.sessionRevoked>[0]);

    // Every conversation they were ever in or wrote to: their messages and reactions go.
    const conversations = new Map<ConversationId, number>();
    for (const c of await storage.conversations.listConversations(userId)) conversations.set(c.id, c.head);
    for (const r of await storage.conversations.listRemovals(userId, 10_000)) conversations.set(r.conversation.id, r.conversation.head);
    for (const m of await storage.privacy.messagesWithText(userId)) conversations.set(m.conversationId, Math.max(conversations.get(m.conversationId) ?? 0, m.segment));
    let removed = 0;
    for (const [conversationId, head] of conversations) {
      for (let segment = 0; segment <= head; segment++) {
        const gone = await removal.remove(conversationId, segment, { messages: (_id, entry) => entry.author === userId, by: () => userId, reactionsOf: userId });
        removed += gone.length;
      }
      // Members' lists and their inboxes (a DM is titled with the other person's name) show the anonymized name.
      const members = await storage.conversations.getMembers(conversationId);
      await sync.membershipChanged(conversationId, members.map((m) => m.userId).filter((id) => id !== userId));
    }
    await this.#clearDrafts(userId);
    await this.#parts.audit.record('account.erased', userId, userId, { messages: removed, conversations: conversations.size, devicesSignedOut: erased.sessions.length });
    log.info('account erased', { userId, messages: removed, conversations: conversations.size });
  }

  /** Drafts are text the person typed: the user document keeps none of them. */
  async #clearDrafts(userId: UserId): Promise<void> {
    const name = userDoc(userId);
    const connection = await this.#parts.hocuspocus().openDirectConnection(name, { server: 'privacy' });
    try {
      const doc = connection.document;
      if (!doc) return;
      const outcome = await this.#parts.writePath.serverWrite(name, doc, (current) => {
        const keys = [...current.getMap(UserRoots.drafts).keys()];
        return keys.length === 0 ? null : { client: SEGMENT_SERVER_CLIENT, ops: keys.map((key) => ({ root: UserRoots.drafts, key })) };
      });
      if (outcome) this.#parts.erasure.deleted(name);
    } finally {
      await connection.disconnect();
    }
  }

  async #loadFromLog(name: string): Promise<Y.Doc> {
    const stored = await this.#parts.storage.log.load(name);
    const doc = new Y.Doc();
    Y.transact(doc, () => {
      if (stored.base) Y.applyUpdate(doc, stored.base);
      for (const entry of stored.entries) Y.applyUpdate(doc, entry.update);
    });
    return doc;
  }
}
