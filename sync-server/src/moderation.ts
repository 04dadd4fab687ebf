// Moderation beyond deleting messages: owners and admins lock a group to admins-only posting
// (the write path refuses members' new messages), and any member reports a message to the server
// administrators, who see each report with the message, a few around it, who reported and why.
import { randomUUID } from 'node:crypto';
import { OutpostError, type ConversationId, type MessageId, type Posting, type ReportView, type ReportedMessage, type UserId } from '@outpost/shared-schema';
import type { MessageRecord, ReportRecord, Storage } from '@outpost/storage';
import type { Audit } from './audit/Audit.ts';
import type { SyncEngine } from './sync/SyncEngine.ts';

/** Messages shown before and after a reported one. */
const CONTEXT = 3;

/** Who is a server administrator (the administrator role: the first account, or ADMIN_USERS). */
export type ServerAdministrators = (userId: UserId) => Promise<boolean>;

export class Moderation {
  readonly #storage: Storage;
  readonly #sync: Pick<SyncEngine, 'membershipChanged'>;
  readonly #audit: Audit;
  readonly #isAdministrator: ServerAdministrators;

  constructor(options: { storage: Storage; sync: Pick<SyncEngine, 'membershipChanged'>; audit: Audit; isAdministrator: ServerAdministrators }) {
    this.#storage = options.storage;
    this.#sync = options.sync;
    this.#audit = options.audit;
    this.#isAdministrator = options.isAdministrator;
  }

  /** Owners and admins lock a group to admins-only posting, or open it to everyone again. */
  async setPosting(userId: UserId, conversationId: ConversationId, posting: Posting): Promise<void> {
    const conversation = await this.#storage.conversations.getConversation(conversationId);
    const role = conversation ? await this.#storage.conversations.getMemberRole(conversationId, userId) : null;
    if (!conversation || !role) throw new OutpostError('notFound', 'no such conversation');
    if (conversation.kind !== 'group') throw new OutpostError('invalidInput', 'only a group can be locked');
    if (role !== 'owner' && role !== 'admin') throw new OutpostError('forbidden', 'only the owner or an admin can lock or unlock the group');
    if ((await this.#storage.moderation.getPosting(conversationId)) === posting) return;
    await this.#storage.moderation.setPosting(conversationId, posting);
    await this.#audit.record(posting === 'admins' ? 'group.locked' : 'group.unlocked', userId, conversationId);
    // Every node forgets what it cached; members' server documents show the lock.
    await this.#sync.membershipChanged(conversationId, []);
  }

  /** A member reports a message to the server administrators (once per message; again changes nothing). */
  async report(userId: UserId, conversationId: ConversationId, messageId: MessageId, reason: string): Promise<{ id: string; created: boolean }> {
    if (!(await this.#storage.conversations.getMemberRole(conversationId, userId))) throw new OutpostError('notFound', 'no such conversation');
    const message = await this.#storage.projection.getMessage(conversationId, messageId);
    if (!message) throw new OutpostError('notFound', 'no such message in this conversation (it may not have reached the server yet)');
    if (message.author === userId) throw new OutpostError('invalidInput', 'you cannot report your own message; delete it instead');
    const { created, report } = await this.#storage.moderation.createReport({ id: randomUUID(), conversationId, messageId, reporter: userId, reason, createdAt: Date.now() });
    if (created) await this.#audit.record('message.reported', userId, messageId, { conversation: conversationId });
    return { id: report.id, created };
  }

  /** Reports as a server administrator sees them, newest first. */
  async listReports(userId: UserId, open: boolean, limit = 50): Promise<ReportView[]> {
    await this.#requireAdministrator(userId);
    const reports = await this.#storage.moderation.listReports({ open, limit });
    return Promise.all(reports.map((report) => this.#view(report)));
  }

  /** A server administrator marks a report handled. */
  async resolve(userId: UserId, reportId: string): Promise<void> {
    await this.#requireAdministrator(userId);
    if (!(await this.#storage.moderation.resolveReport(reportId, userId, Date.now()))) throw new OutpostError('notFound', 'no such open report');
  }

  async isAdministrator(userId: UserId): Promise<boolean> {
    return this.#isAdministrator(userId);
  }

  async #requireAdministrator(userId: UserId): Promise<void> {
    if (!(await this.#isAdministrator(userId))) throw new OutpostError('forbidden', 'only a server administrator sees reports');
  }

  async #view(report: ReportRecord): Promise<ReportView> {
    const storage = this.#storage;
    const conversation = await storage.conversations.getConversation(report.conversationId);
    const message = await storage.projection.getMessage(report.conversationId, report.messageId);
    const around = message ? await storage.projection.listMessages(report.conversationId, Math.max(0, message.seq - CONTEXT - 1), CONTEXT * 2 + 1) : [];
    const people = new Map((await storage.accounts.getUsersByIds([report.reporter, ...around.map((m) => m.author)])).map((u) => [u.id, u]));
    const person = (id: UserId) => ({ id, username: people.get(id)?.username ?? '', displayName: people.get(id)?.displayName ?? '' });
    const shown = (m: MessageRecord): ReportedMessage => ({ id: m.id, seq: m.seq, author: person(m.author), createdAt: m.createdAt, body: m.body, deleted: m.deletedAt !== null });
    return {
      id: report.id,
      createdAt: report.createdAt,
      reason: report.reason,
      reporter: person(report.reporter),
      conversation: { id: report.conversationId, kind: conversation?.kind ?? 'group', title: conversation?.title ?? '' },
      message: message ? shown(message) : null,
      context: around.filter((m) => m.id !== report.messageId).map(shown),
      resolvedAt: report.resolvedAt,
      resolvedBy: report.resolvedBy,
    };
  }
}
