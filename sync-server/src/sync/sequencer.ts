// Gives accepted messages their canonical numbers (in storage, idempotently) and then brings
// the server-owned documents that are open on this node in line: `:order`, server doc, inboxes.
import * as Y from 'yjs';
import {
  orderDoc,
  inboxDoc,
  segmentMaps,
  serverDoc,
  writeSeq,
  writeMeta,
  type ConversationId,
  type MessageEntry,
  type MessageId,
  type UserId,
} from '@outpost/shared-schema';
import type { NumberedMessage, Storage } from '@outpost/storage';
import type { Logger } from '../log.ts';
import { SERVER_ORIGIN } from './documentStore.ts';
import { materializeInboxEntries, materializeServer } from './materialize.ts';
import type { SegmentChanges, UserDocChanges } from './validate.ts';

/** The documents this node holds in memory right now. */
export interface LoadedDocs {
  get(name: string): Y.Doc | undefined;
}

export class Sequencer {
  readonly #storage: Storage;
  readonly #docs: LoadedDocs;
  readonly #segmentSize: number;
  readonly #log: Logger;
  /** Per segment document: messages validated but not integrated yet (missing dependencies). */
  readonly #awaiting = new WeakMap<Y.Doc, Map<MessageId, MessageEntry>>();

  constructor(storage: Storage, docs: LoadedDocs, segmentSize: number, log: Logger) {
    this.#storage = storage;
    this.#docs = docs;
    this.#segmentSize = segmentSize;
    this.#log = log;
  }

  /** Numbers the new messages of an applied segment update and records edits and deletions. */
  async onSegmentChanges(conversationId: ConversationId, segment: number, doc: Y.Doc, changes: SegmentChanges): Promise<void> {
    const messages = segmentMaps(doc).messages;
    // Only what Yjs integrated: an update missing its dependencies waits inside Yjs; its
    // messages wait here and are numbered with the update that completes them.
    let awaiting = this.#awaiting.get(doc);
    if (!awaiting) this.#awaiting.set(doc, (awaiting = new Map()));
    for (const m of changes.messages) awaiting.set(m.id, m.entry);
    const arrived = [...awaiting]
      .filter(([id, entry]) => messages.get(id)?.author === entry.author)
      .map(([id, entry]) => ({ id, segment, ...entry }))
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const m of arrived) awaiting.delete(m.id);
    if (arrived.length > 0) await this.#number(conversationId, segment, arrived);
    for (const edit of changes.edits) await this.#storage.recordEdit(conversationId, edit.id, edit.entry.body, edit.entry.editedAt);
    for (const deletion of changes.deletions) await this.#storage.recordDeletion(conversationId, deletion.id, deletion.entry.at);
    if (arrived.length > 0 || changes.edits.length > 0 || changes.deletions.length > 0) await this.refreshConversation(conversationId);
  }

  /** Numbers every message of a freshly loaded segment that storage has no number for. */
  async numberUnnumbered(conversationId: ConversationId, segment: number, doc: Y.Doc): Promise<void> {
    const numbered = new Set((await this.#storage.listSegmentNumbers(conversationId, segment)).map((n) => n.id));
    const missing = [...segmentMaps(doc).messages.entries()]
      .filter(([id]) => !numbered.has(id as never))
      .sort(([, a], [, b]) => a.createdAt - b.createdAt);
    if (missing.length === 0) return;
    this.#log.info('numbering messages found unnumbered on load', { conversationId, segment, count: missing.length });
    await this.#number(conversationId, segment, missing.map(([id, entry]) => ({ id: id as never, segment, ...entry })));
    await this.refreshConversation(conversationId);
  }

  async #number(conversationId: ConversationId, segment: number, messages: Parameters<Storage['numberMessages']>[1]): Promise<void> {
    const numbered = await this.#storage.numberMessages(conversationId, messages, Date.now());
    this.#writeNumbers(conversationId, numbered);
    await this.#maybeAdvanceHead(conversationId, segment);
  }

  #writeNumbers(conversationId: ConversationId, numbered: NumberedMessage[]): void {
    const bySegment = new Map<number, NumberedMessage[]>();
    for (const n of numbered) bySegment.set(n.segment, [...(bySegment.get(n.segment) ?? []), n]);
    for (const [segment, list] of bySegment) {
      const doc = this.#docs.get(orderDoc(conversationId, segment));
      if (!doc) continue; // materialized from storage when someone opens it
      doc.transact(() => {
        for (const n of list) writeSeq(doc, n.id, { seq: n.seq, at: n.receivedAt });
      }, SERVER_ORIGIN);
    }
  }

  async #maybeAdvanceHead(conversationId: ConversationId, segment: number): Promise<void> {
    const conversation = await this.#storage.getConversation(conversationId);
    if (!conversation || segment < conversation.head) return;
    const count = await this.#storage.countSegmentMessages(conversationId, conversation.head);
    if (count >= this.#segmentSize) await this.#storage.advanceHead(conversationId, conversation.head);
  }

  /** Records read positions (max over devices) and updates receipts and the reader's inbox. */
  async onReads(userId: UserId, changes: UserDocChanges): Promise<void> {
    const touched = new Set<ConversationId>();
    for (const read of changes.reads) {
      if (!(await this.#storage.getMemberRole(read.conversationId, userId))) continue;
      await this.#storage.recordRead(read.conversationId, userId, read.seq);
      touched.add(read.conversationId);
    }
    const inbox = this.#docs.get(inboxDoc(userId));
    for (const conversationId of touched) {
      const server = this.#docs.get(serverDoc(conversationId));
      if (server) await materializeServer(this.#storage, server, conversationId, this.#segmentSize);
      if (inbox) await materializeInboxEntries(this.#storage, conversationId, [{ userId, doc: inbox }]);
    }
  }

  /** Brings the open server doc and the open inboxes of all members in line with storage. */
  async refreshConversation(conversationId: ConversationId, alsoUsers: readonly UserId[] = []): Promise<void> {
    const server = this.#docs.get(serverDoc(conversationId));
    if (server) await this.#refreshServerMeta(server, conversationId);
    const members = await this.#storage.getMembers(conversationId);
    const users = new Set<UserId>([...members.map((m) => m.userId), ...alsoUsers]);
    const open = [...users].flatMap((userId) => {
      const doc = this.#docs.get(inboxDoc(userId));
      return doc ? [{ userId, doc }] : [];
    });
    await materializeInboxEntries(this.#storage, conversationId, open);
  }

  async #refreshServerMeta(doc: Y.Doc, conversationId: ConversationId): Promise<void> {
    const conversation = await this.#storage.getConversation(conversationId);
    if (!conversation) return;
    doc.transact(() => writeMeta(doc, { head: conversation.head, lastSeq: conversation.lastSeq, title: conversation.title }), SERVER_ORIGIN);
  }
}
