// One conversation as the SDK user sees it: live messages, members and receipts, and the calls
// that change it. Every call writes the local documents first and returns at once; the socket
// carries the change when it can.
import * as Y from 'yjs';
import {
  Limits,
  OutpostError,
  isValidEmoji,
  markRead,
  orderDoc,
  readMeta,
  readSegment,
  segmentDoc,
  segmentMaps,
  seqMap,
  serverDoc,
  serverMaps,
  removeReaction,
  writeDeletion,
  writeEdit,
  writeMessage,
  writeReaction,
  readPosition,
  readNotifyLevel,
  defaultNotifyLevel,
  userDoc,
  writeNotifyLevel,
  type ConversationId,
  type ConversationMeta,
  type DeviceId,
  type MessageId,
  type NotifyLevel,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import { Derived, type Live } from '../live.ts';
import type { DocStore } from '../replica/DocStore.ts';
import type { SyncConnection } from '../connection/SyncConnection.ts';
import { compareMessages, type MessageItem } from './messageOrder.ts';
import type { OperationKind } from '../replica/PendingOperation.ts';

export interface Member {
  userId: UserId;
  role: Role;
  joinedAt: number;
  username: string;
  displayName: string;
}

export interface Receipt {
  userId: UserId;
  /** Highest seq the member has read. */
  read: number;
}

/** What a Conversation needs from its client. */
export interface ConversationHost {
  userId: UserId;
  deviceId: DeviceId;
  docs: DocStore;
  connection: SyncConnection;
  userDoc: Y.Doc;
  /** Why the server refused a document, if it did (see OutpostClient.failures). */
  failureOf(docName: string): { kind: string; message: string } | undefined;
  onFailuresChanged(listener: () => void): () => void;
  setTyping(conversationId: ConversationId | null): void;
  typingIn(conversationId: ConversationId): Live<UserId[]>;
  /** Starts syncing a document once the replica has loaded it. */
  sync(docName: string, doc: Y.Doc): void;
  /** Runs a write as a user operation: its change and the pending operation are stored together. */
  record(kind: OperationKind, docName: string, messageId: MessageId | undefined, write: () => void): void;
  /** Segment numbers the replica holds for a conversation (some may be past the server's head). */
  storedSegments(conversationId: ConversationId): Promise<number[]>;
}

export class Conversation {
  readonly id: ConversationId;
  readonly #host: ConversationHost;
  readonly #server: Y.Doc;
  /** Segment number → [content doc, order doc]. */
  readonly #segments = new Map<number, { content: Y.Doc; order: Y.Doc }>();
  readonly #messages: Derived<MessageItem[]>;
  readonly #members: Derived<Member[]>;
  readonly #receipts: Derived<Receipt[]>;
  readonly #meta: Derived<ConversationMeta | null>;
  readonly #notifyLevel: Derived<NotifyLevel>;
  readonly #cleanup: (() => void)[] = [];
  #closed = false;

  constructor(host: ConversationHost, id: ConversationId) {
    this.#host = host;
    this.id = id;
    this.#messages = new Derived(() => this.#computeMessages());
    this.#members = new Derived(() =>
      [...serverMaps(this.#server).members.entries()].map(([userId, m]) => ({
        userId: userId as UserId,
        role: m.role,
        joinedAt: m.joinedAt,
        username: m.username ?? '',
        displayName: m.displayName ?? '',
      })),
    );
    this.#receipts = new Derived(() =>
      [...serverMaps(this.#server).receipts.entries()].map(([userId, r]) => ({ userId: userId as UserId, read: r.read })),
    );
    this.#meta = new Derived(() => readMeta(this.#server));
    this.#notifyLevel = new Derived(() => readNotifyLevel(host.userDoc, id) ?? defaultNotifyLevel(readMeta(this.#server)?.kind ?? 'group'));
    host.userDoc.on('update', this.#notifyLevel.invalidate);
    this.#cleanup.push(() => host.userDoc.off('update', this.#notifyLevel.invalidate));

    this.#server = host.docs.open(serverDoc(id));
    host.sync(serverDoc(id), this.#server);
    const onServer = () => {
      this.#notifyLevel.invalidate();
      this.#members.invalidate();
      this.#receipts.invalidate();
      this.#meta.invalidate();
      this.#openSegmentsUpTo(readMeta(this.#server)?.head ?? 0);
    };
    this.#server.on('update', onServer);
    this.#cleanup.push(() => this.#server.off('update', onServer));
    this.#cleanup.push(host.onFailuresChanged(() => this.#messages.invalidate()));
    this.#openSegmentsUpTo(readMeta(this.#server)?.head ?? 0);
    // Segments written offline past the server's head are in the replica only: open them too.
    void host.storedSegments(id).then((numbers) => {
      if (!this.#closed) for (const n of numbers.sort((a, b) => b - a)) this.#segment(n);
    });
  }

  /**
   * Opens (and syncs) every segment up to `head`: the whole history stays local. Newest first:
   * the replica loads documents in the order they are opened, so the latest messages (what a
   * cold start shows first) arrive before the old history.
   */
  #openSegmentsUpTo(head: number): void {
    for (let n = head; n >= 0; n--) this.#segment(n);
  }

  #segment(n: number): { content: Y.Doc; order: Y.Doc } {
    const existing = this.#segments.get(n);
    if (existing) return existing;
    const content = this.#host.docs.open(segmentDoc(this.id, n));
    const order = this.#host.docs.open(orderDoc(this.id, n));
    const entry = { content, order };
    this.#segments.set(n, entry);
    this.#host.sync(segmentDoc(this.id, n), content);
    this.#host.sync(orderDoc(this.id, n), order);
    const invalidate = this.#messages.invalidate;
    content.on('update', invalidate);
    order.on('update', invalidate);
    this.#cleanup.push(() => {
      entry.content.off('update', invalidate);
      order.off('update', invalidate);
    });
    invalidate();
    return entry;
  }

  /** Switches a segment to a fresh copy of its document (after the old one was quarantined). */
  replaceSegment(n: number, fresh: Y.Doc): void {
    const entry = this.#segments.get(n);
    if (!entry) return;
    entry.content.off('update', this.#messages.invalidate);
    entry.content = fresh;
    fresh.on('update', this.#messages.invalidate);
    this.#messages.invalidate();
  }

  /**
   * The segment that takes a new message. While this device has messages without a number, new
   * ones join the newest of them: documents sync independently, so spreading a burst over two
   * segments could number it out of order. Otherwise: the server's head, or later if it is full.
   */
  #targetSegment(): number {
    let pending = -1;
    for (const [n, { content, order }] of this.#segments) {
      const numbered = seqMap(order);
      for (const [id, entry] of segmentMaps(content).messages.entries()) {
        if (n > pending && entry.author === this.#host.userId && !numbered.has(id)) pending = n;
      }
    }
    if (pending >= 0) return pending;
    const meta = readMeta(this.#server);
    let head = meta?.head ?? 0;
    const size = meta?.segmentSize ?? Limits.segmentSize;
    while (segmentMaps(this.#segment(head).content).messages.size >= size) head += 1;
    return head;
  }

  #segmentOf(messageId: MessageId): { n: number; content: Y.Doc } {
    for (const [n, { content }] of this.#segments) {
      if (segmentMaps(content).messages.has(messageId)) return { n, content };
    }
    throw new OutpostError('notFound', 'no such message in this conversation');
  }

  #computeMessages(): MessageItem[] {
    const seqs = new Map<string, number>();
    for (const { order } of this.#segments.values()) for (const [id, entry] of seqMap(order).entries()) seqs.set(id, entry.seq);
    const items: MessageItem[] = [];
    for (const [n, { content }] of this.#segments) {
      const refusal = this.#host.failureOf(segmentDoc(this.id, n));
      for (const view of readSegment(content).values()) {
        const seq = seqs.get(view.id) ?? null;
        const failure = seq === null && refusal && view.author === this.#host.userId ? `${refusal.kind}: ${refusal.message}` : undefined;
        items.push({
          ...view,
          seq,
          status: seq !== null ? 'sent' : failure ? 'failed' : 'pending',
          ...(failure ? { failure } : {}),
          segment: n,
          mine: view.author === this.#host.userId,
        });
      }
    }
    return items.sort(compareMessages);
  }

  /** Live messages in canonical order (numbered by seq, then unnumbered by creation time). */
  messages(): Live<MessageItem[]> {
    return this.#messages;
  }

  members(): Live<Member[]> {
    return this.#members;
  }

  /** Each member's read position (max over their devices), as the server last saw it. */
  receipts(): Live<Receipt[]> {
    return this.#receipts;
  }

  meta(): Live<ConversationMeta | null> {
    return this.#meta;
  }

  /** When this conversation notifies you: your choice on any device, else all messages in a DM and mentions in a group. */
  notifyLevel(): Live<NotifyLevel> {
    return this.#notifyLevel;
  }

  /** Chooses when this conversation notifies you, on all your devices ('none' mutes it; undefined: the default). */
  setNotifyLevel(level: NotifyLevel | undefined): void {
    this.#host.userDoc.transact(() => writeNotifyLevel(this.#host.userDoc, this.id, level));
  }

  /** Users typing here now (never yourself). */
  typing(): Live<UserId[]> {
    return this.#host.typingIn(this.id);
  }

  /** Writes a message locally and returns its id at once; it syncs when connected. */
  send(body: string, options: { replyTo?: MessageId } = {}): MessageId {
    checkBody(body);
    const id = globalThis.crypto.randomUUID() as MessageId;
    const n = this.#targetSegment();
    const doc = this.#segment(n).content;
    this.#host.record('send', segmentDoc(this.id, n), id, () =>
      writeMessage(doc, id, {
        author: this.#host.userId,
        createdAt: Date.now(),
        body,
        ...(options.replyTo ? { replyTo: options.replyTo } : {}),
      }),
    );
    this.#host.setTyping(null);
    return id;
  }

  edit(messageId: MessageId, body: string): void {
    checkBody(body);
    const { n, content } = this.#segmentOf(messageId);
    if (segmentMaps(content).messages.get(messageId)?.author !== this.#host.userId) {
      throw new OutpostError('forbidden', 'only the author edits a message');
    }
    this.#host.record('edit', segmentDoc(this.id, n), messageId, () => writeEdit(content, messageId, { body, editedAt: Date.now() }));
  }

  delete(messageId: MessageId): void {
    const { n, content } = this.#segmentOf(messageId);
    if (segmentMaps(content).deletions.has(messageId)) return;
    this.#host.record('delete', segmentDoc(this.id, n), messageId, () => writeDeletion(content, messageId, { by: this.#host.userId, at: Date.now() }));
  }

  react(messageId: MessageId, emoji: string): void {
    if (!isValidEmoji(emoji)) throw new OutpostError('invalidInput', 'not a valid reaction');
    const { n, content } = this.#segmentOf(messageId);
    this.#host.record('react', segmentDoc(this.id, n), messageId, () => writeReaction(content, messageId, emoji, this.#host.userId, Date.now()));
  }

  unreact(messageId: MessageId, emoji: string): void {
    const { n, content } = this.#segmentOf(messageId);
    this.#host.record('unreact', segmentDoc(this.id, n), messageId, () => removeReaction(content, messageId, emoji, this.#host.userId));
  }

  /** Moves this device's read position to `seq` (default: the newest numbered message). */
  markRead(seq?: number): void {
    const target = seq ?? this.#lastSeq();
    if (target <= 0) return;
    this.#host.record('read', userDoc(this.#host.userId), undefined, () => markRead(this.#host.userDoc, this.id, this.#host.deviceId, target));
  }

  /** The user's read position here: the max over all their devices. */
  readPosition(): number {
    return readPosition(this.#host.userDoc, this.id);
  }

  setTyping(typing: boolean): void {
    this.#host.setTyping(typing ? this.id : null);
  }

  #lastSeq(): number {
    let max = readMeta(this.#server)?.lastSeq ?? 0;
    for (const { order } of this.#segments.values()) for (const entry of seqMap(order).values()) max = Math.max(max, entry.seq);
    return max;
  }

  /** True once the server has numbered (durably stored) the message. */
  isNumbered(messageId: MessageId): boolean {
    for (const { order } of this.#segments.values()) if (seqMap(order).has(messageId)) return true;
    return false;
  }

  /** Resolves when every open document of the conversation is synced with the server. */
  synced(): boolean {
    const names = [serverDoc(this.id), ...[...this.#segments.keys()].flatMap((n) => [segmentDoc(this.id, n), orderDoc(this.id, n)])];
    return names.every((name) => this.#host.connection.isSynced(name));
  }

  close(): void {
    this.#closed = true;
    for (const fn of this.#cleanup.splice(0)) fn();
  }
}

function checkBody(body: string): void {
  if (body.trim().length === 0) throw new OutpostError('invalidInput', 'a message needs some text');
  if (body.length > Limits.messageBody) throw new OutpostError('tooLarge', `a message holds at most ${Limits.messageBody} characters`);
}
