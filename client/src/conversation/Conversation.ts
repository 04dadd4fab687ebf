// One conversation as the SDK user sees it: live messages, members and receipts, and the calls
// that change it. Every call writes the local documents first and returns at once; the socket
// carries the change when it can. A message's number arrives in its own segment, in the same
// update as the message itself (the `seq` root the server writes).
import type * as Y from 'yjs';
import {
  Limits,
  OutpostError,
  bodyProblem,
  isValidEmoji,
  markRead,
  mentionedHandles,
  readMeta,
  readSegment,
  segmentDoc,
  segmentMaps,
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
  type AttachmentEntry,
  type ConversationMeta,
  type DeviceId,
  type MessageEntry,
  type MessageId,
  type NotifyLevel,
  type Role,
  type TimelineEventEntry,
  type UserId,
} from '@outpost/shared-schema';
import { Derived, type Live } from '../live.ts';
import type { DocStore } from '../replica/DocStore.ts';
import type { SyncConnection } from '../connection/SyncConnection.ts';
import { compareMessages, type MessageItem } from './messageOrder.ts';
import type { OperationKind } from '../replica/PendingOperation.ts';
import type { OutgoingMessage } from '../replica/ReplicaFiles.ts';
import type { UploadState } from '../files/Uploads.ts';
import { devicePreview } from '../files/devicePreview.ts';

/** A file to attach: a browser File (its name is used), or bytes with a name. */
export type AttachmentInput = File | { data: Blob | Uint8Array; name: string; type?: string };

/** A file shared in the conversation, for "shared images and files". */
export interface SharedFile {
  messageId: MessageId;
  author: UserId;
  at: number;
  attachment: AttachmentEntry;
}

export interface Member {
  userId: UserId;
  role: Role;
  joinedAt: number;
  username: string;
  displayName: string;
}

/** Something that happened to the group (created, added, removed, left, renamed), for its timeline. */
export interface TimelineEvent extends TimelineEventEntry {
  /** Its number: events are shown in this order. */
  id: number;
}

export interface Receipt {
  userId: UserId;
  /** Highest seq the member has read. */
  read: number;
}

/** What the conversation list shows about a conversation, derived from its documents. */
export interface ConversationFacts {
  lastSeq: number;
  lastMessage: { id: MessageId; author: UserId; preview: string; at: number } | null;
  /** Numbered messages from others after the user's read position, not deleted. */
  unread: number;
  /** Of those, the ones that mention the user (groups only: in a DM everything is for you). */
  mentions: number;
  /** Last activity (ms). */
  updatedAt: number;
}

/** What a Conversation needs from its client. */
export interface ConversationHost {
  userId: UserId;
  /** The user's @handle (for messages sent before their author knew the members). */
  username: string;
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
  /** Messages with files waiting to upload, oldest first. */
  outgoing(conversationId: ConversationId): OutgoingMessage[];
  uploadState(messageId: MessageId): UploadState;
  /** Stores a message with files and starts uploading them. */
  addOutgoing(message: OutgoingMessage): Promise<void>;
  updateOutgoing(message: OutgoingMessage): Promise<void>;
  cancelOutgoing(messageId: MessageId): Promise<void>;
  retryOutgoing(messageId: MessageId): Promise<void>;
}

export class Conversation {
  readonly id: ConversationId;
  readonly #host: ConversationHost;
  #server: Y.Doc;
  /** Segment number → content document (messages, edits, reactions and their numbers). */
  readonly #segments = new Map<number, Y.Doc>();
  readonly #messages: Derived<MessageItem[]>;
  readonly #files: Derived<SharedFile[]>;
  readonly #members: Derived<Member[]>;
  readonly #receipts: Derived<Receipt[]>;
  readonly #meta: Derived<ConversationMeta | null>;
  readonly #formerNames: Derived<Map<UserId, string>>;
  readonly #events: Derived<TimelineEvent[]>;
  readonly #changeListeners = new Set<() => void>();
  readonly #notifyLevel: Derived<NotifyLevel>;
  readonly #cleanup: (() => void)[] = [];
  #closed = false;

  constructor(host: ConversationHost, id: ConversationId) {
    this.#host = host;
    this.id = id;
    this.#messages = new Derived(() => this.#computeMessages());
    this.#files = new Derived(() =>
      // Newest message first; a message's files in the order they were attached.
      this.#messages
        .get()
        .filter((m) => m.seq !== null && m.attachments)
        .reverse()
        .flatMap((m) => (m.attachments ?? []).map((attachment) => ({ messageId: m.id, author: m.author, at: m.createdAt, attachment }))),
    );
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
    this.#formerNames = new Derived(
      () => new Map([...serverMaps(this.#server).formerMembers.entries()].map(([userId, f]) => [userId as UserId, f.displayName || f.username])),
    );
    this.#events = new Derived(() =>
      [...serverMaps(this.#server).events.entries()].map(([id, entry]) => ({ ...entry, id: Number(id) })).sort((a, b) => a.id - b.id),
    );
    this.#notifyLevel = new Derived(() => readNotifyLevel(host.userDoc, id) ?? defaultNotifyLevel(readMeta(this.#server)?.kind ?? 'group'));
    host.userDoc.on('update', this.#notifyLevel.invalidate);
    this.#cleanup.push(() => host.userDoc.off('update', this.#notifyLevel.invalidate));

    this.#server = host.docs.open(serverDoc(id));
    this.#watchServer(this.#server);
    host.sync(serverDoc(id), this.#server);
    this.#cleanup.push(host.onFailuresChanged(() => this.#changed()));
    this.#openSegmentsUpTo(readMeta(this.#server)?.head ?? 0);
    // Segments written offline past the server's head are in the replica only: open them too.
    void host.storedSegments(id).then((numbers) => {
      if (!this.#closed) for (const n of numbers.sort((a, b) => b - a)) this.#segment(n);
    });
  }

  #watchServer(doc: Y.Doc): void {
    const onServer = () => {
      this.#notifyLevel.invalidate();
      this.#members.invalidate();
      this.#receipts.invalidate();
      this.#meta.invalidate();
      this.#formerNames.invalidate();
      this.#events.invalidate();
      this.#openSegmentsUpTo(readMeta(doc)?.head ?? 0);
      this.#changed();
    };
    doc.on('update', onServer);
    this.#cleanup.push(() => doc.off('update', onServer));
  }

  /** Calls `listener` after any change to the conversation's documents (for derived views). */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Something outside the documents changed (an upload's progress): the views follow. */
  changed(): void {
    this.#changed();
  }

  #changed(): void {
    this.#messages.invalidate();
    this.#files.invalidate();
    for (const listener of this.#changeListeners) listener();
  }

  /**
   * Opens (and syncs) every segment up to `head`: the whole history stays local. Newest first:
   * the replica loads documents in the order they are opened, so the latest messages (what a
   * cold start shows first) arrive before the old history.
   */
  #openSegmentsUpTo(head: number): void {
    for (let n = head; n >= 0; n--) this.#segment(n);
  }

  #segment(n: number): Y.Doc {
    const existing = this.#segments.get(n);
    if (existing) return existing;
    const content = this.#host.docs.open(segmentDoc(this.id, n));
    this.#segments.set(n, content);
    this.#host.sync(segmentDoc(this.id, n), content);
    this.#watchSegment(content);
    this.#changed();
    return content;
  }

  #watchSegment(doc: Y.Doc): void {
    const changed = () => this.#changed();
    doc.on('update', changed);
    this.#cleanup.push(() => doc.off('update', changed));
  }

  /** Switches to a fresh copy of a document (after the old one was quarantined or replaced). */
  replaceDocument(docName: string, fresh: Y.Doc): void {
    if (docName === serverDoc(this.id)) {
      this.#server = fresh;
      this.#watchServer(fresh);
      this.#members.invalidate();
      this.#receipts.invalidate();
      this.#meta.invalidate();
      this.#formerNames.invalidate();
      this.#events.invalidate();
      this.#changed();
      return;
    }
    for (const [n, doc] of this.#segments) {
      if (segmentDoc(this.id, n) !== docName || doc === fresh) continue;
      this.#segments.set(n, fresh);
      this.#watchSegment(fresh);
      this.#changed();
    }
  }

  /**
   * The segment that takes a new message. While this device has messages without a number, new
   * ones join the newest of them: documents sync independently, so spreading a burst over two
   * segments could number it out of order. Otherwise: the server's head, or later if it is full.
   */
  #targetSegment(): number {
    let pending = -1;
    for (const [n, content] of this.#segments) {
      if (n <= pending) continue;
      const maps = segmentMaps(content);
      for (const [id, entry] of maps.messages.entries()) {
        if (entry.author === this.#host.userId && !maps.seq.has(id)) {
          pending = n;
          break;
        }
      }
    }
    if (pending >= 0) return pending;
    const meta = readMeta(this.#server);
    let head = meta?.head ?? 0;
    const size = meta?.segmentSize ?? Limits.segmentSize;
    while (segmentMaps(this.#segment(head)).messages.size >= size) head += 1;
    return head;
  }

  #segmentOf(messageId: MessageId): { n: number; content: Y.Doc } {
    for (const [n, content] of this.#segments) {
      if (segmentMaps(content).messages.has(messageId)) return { n, content };
    }
    throw new OutpostError('notFound', 'no such message in this conversation');
  }

  #computeMessages(): MessageItem[] {
    const items: MessageItem[] = [];
    for (const [n, content] of this.#segments) {
      const refusal = this.#host.failureOf(segmentDoc(this.id, n));
      const seqs = segmentMaps(content).seq;
      for (const view of readSegment(content).values()) {
        const seq = seqs.get(view.id)?.seq ?? null;
        const failure = seq === null && refusal && view.author === this.#host.userId ? refusal.message : undefined;
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
    const written = new Set(items.map((item) => item.id));
    for (const message of this.#host.outgoing(this.id)) {
      // Delivered a moment ago: its segment shows it now.
      if (written.has(message.id)) continue;
      const upload = this.#host.uploadState(message.id);
      items.push({
        id: message.id,
        author: message.author,
        createdAt: message.createdAt,
        body: message.body,
        ...(message.replyTo ? { replyTo: message.replyTo } : {}),
        ...(message.mentions ? { mentions: message.mentions } : {}),
        attachments: message.files.map((file) => file.uploaded ?? localEntry(file)),
        reactions: {},
        seq: null,
        status: message.failure ? 'failed' : 'pending',
        ...(message.failure ? { failure: message.failure } : {}),
        segment: -1,
        mine: true,
        upload,
      });
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

  /** Display names of people who were members and left or were removed (their messages stay theirs). */
  formerMembers(): Live<Map<UserId, string>> {
    return this.#formerNames;
  }

  /** What happened to the group (the latest events, oldest first), to show between its messages. */
  events(): Live<TimelineEvent[]> {
    return this.#events;
  }

  /** Each member's read position (max over their devices), as the server last saw it. */
  receipts(): Live<Receipt[]> {
    return this.#receipts;
  }

  meta(): Live<ConversationMeta | null> {
    return this.#meta;
  }

  /**
   * Whether you may post here now: false in a group its owner or an admin locked to admins-only
   * posting (`meta().posting === 'admins'`) unless you are one of them. As of the last sync.
   */
  canPost(): boolean {
    if (this.#meta.get()?.posting !== 'admins') return true;
    const role = this.members().get().find((m) => m.userId === this.#host.userId)?.role;
    return role === 'owner' || role === 'admin';
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

  /**
   * Writes a message locally and returns its id at once; it syncs when connected. With
   * `attachments`, the message and its files are kept in the replica and shown as pending (with a
   * preview made on the device); the files upload when the server can be reached, and only then is
   * the message sent, so it is never numbered before the server has its files. The body is then an
   * optional caption.
   */
  send(body: string, options: { replyTo?: MessageId; attachments?: readonly AttachmentInput[] } = {}): MessageId {
    if (!this.canPost()) throw new OutpostError('forbidden', 'this group is locked: only its owner and admins can post');
    const files = options.attachments ?? [];
    checkBody(body, files.length);
    if (files.length > Limits.attachmentsPerMessage) throw new OutpostError('tooLarge', `a message carries at most ${Limits.attachmentsPerMessage} files`);
    if (files.length > 0) return this.#sendWithFiles(body, files, options.replyTo);
    const id = globalThis.crypto.randomUUID() as MessageId;
    const n = this.#targetSegment();
    const doc = this.#segment(n);
    const mentions = this.#mentions(body);
    this.#host.record('send', segmentDoc(this.id, n), id, () =>
      writeMessage(doc, id, {
        author: this.#host.userId,
        createdAt: Date.now(),
        body,
        ...(options.replyTo ? { replyTo: options.replyTo } : {}),
        ...(mentions.length > 0 ? { mentions } : {}),
      }),
    );
    this.#host.setTyping(null);
    return id;
  }

  #sendWithFiles(body: string, inputs: readonly AttachmentInput[], replyTo: MessageId | undefined): MessageId {
    const id = globalThis.crypto.randomUUID() as MessageId;
    const mentions = this.#mentions(body);
    const message: OutgoingMessage = {
      id,
      conversationId: this.id,
      author: this.#host.userId,
      body,
      createdAt: Date.now(),
      ...(replyTo ? { replyTo } : {}),
      ...(mentions.length > 0 ? { mentions } : {}),
      files: inputs.map((input) => {
        const data = input instanceof Blob ? input : input.data instanceof Blob ? input.data : new Blob([input.data as Uint8Array<ArrayBuffer>], input.type ? { type: input.type } : {});
        const type = (input instanceof Blob ? input.type : (input.type ?? data.type)) || 'application/octet-stream';
        const name = ('name' in input && input.name ? input.name : 'file').slice(0, Limits.fileName);
        return { id: globalThis.crypto.randomUUID(), name, type: /^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/.test(type) ? type : 'application/octet-stream', size: data.size, data };
      }),
    };
    void this.#host.addOutgoing(message).then(async () => {
      // Previews are made after the message is stored: it shows at once, its pictures a moment later.
      let withPreviews = false;
      for (const file of message.files) {
        const preview = await devicePreview(file.data);
        if (preview) {
          file.preview = preview;
          withPreviews = true;
        }
      }
      if (withPreviews) await this.#host.updateOutgoing({ ...message });
    }).catch((error: unknown) => console.error('outpost: cannot store a message with files', error));
    this.#host.setTyping(null);
    return id;
  }

  /**
   * Writes a message whose files the server has into its segment (the SDK calls this once the
   * uploads are done). `attachments` are the files as the server stored them.
   */
  deliver(message: OutgoingMessage, attachments: AttachmentEntry[]): void {
    const n = this.#targetSegment();
    const doc = this.#segment(n);
    this.#host.record('send', segmentDoc(this.id, n), message.id, () =>
      writeMessage(doc, message.id, {
        author: this.#host.userId,
        createdAt: message.createdAt,
        body: message.body,
        ...(message.replyTo ? { replyTo: message.replyTo } : {}),
        ...(message.mentions ? { mentions: message.mentions } : {}),
        attachments,
      }),
    );
  }

  /** True when the message is in one of the conversation's segments. */
  has(messageId: MessageId): boolean {
    for (const content of this.#segments.values()) if (segmentMaps(content).messages.has(messageId)) return true;
    return false;
  }

  /** Gives up a message whose files have not all uploaded: it is removed from this device. */
  cancelSend(messageId: MessageId): Promise<void> {
    return this.#host.cancelOutgoing(messageId);
  }

  /** Tries again a message whose upload the server refused (after the user changed nothing but the network). */
  retrySend(messageId: MessageId): Promise<void> {
    return this.#host.retryOutgoing(messageId);
  }

  /** The images and files shared here, newest first (from numbered messages that are not deleted). */
  files(): Live<SharedFile[]> {
    return this.#files;
  }

  /** Members whose @username the body names (never more than the schema allows). */
  #mentions(body: string): UserId[] {
    const handles = new Set(mentionedHandles(body));
    if (handles.size === 0) return [];
    return [...serverMaps(this.#server).members.entries()]
      .filter(([, member]) => handles.has((member.username ?? '').toLowerCase()))
      .map(([userId]) => userId as UserId)
      .slice(0, Limits.mentions);
  }

  edit(messageId: MessageId, body: string): void {
    checkBody(body);
    const { n, content } = this.#segmentOf(messageId);
    const maps = segmentMaps(content);
    if (maps.messages.get(messageId)?.author !== this.#host.userId) throw new OutpostError('forbidden', 'only the author edits a message');
    if (maps.deletions.has(messageId)) throw new OutpostError('notFound', 'this message was deleted');
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
    if (segmentMaps(content).deletions.has(messageId)) throw new OutpostError('notFound', 'this message was deleted');
    this.#host.record('react', segmentDoc(this.id, n), messageId, () => writeReaction(content, messageId, emoji, this.#host.userId, Date.now()));
  }

  unreact(messageId: MessageId, emoji: string): void {
    const { n, content } = this.#segmentOf(messageId);
    this.#host.record('unreact', segmentDoc(this.id, n), messageId, () => removeReaction(content, messageId, emoji, this.#host.userId));
  }

  /** Moves this device's read position to `seq` (default: the newest numbered message). */
  markRead(seq?: number): void {
    const target = Math.min(seq ?? this.lastSeq(), this.lastSeq());
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

  /** The highest number this device knows of (the head segment's numbers are current). */
  lastSeq(): number {
    let max = readMeta(this.#server)?.lastSeq ?? 0;
    for (const content of this.#segments.values()) for (const entry of segmentMaps(content).seq.values()) max = Math.max(max, entry.seq);
    return max;
  }

  /** What the conversation list shows: last message, unread and mention counts. */
  facts(): ConversationFacts {
    const me = this.#host.userId;
    const read = this.readPosition();
    const group = readMeta(this.#server)?.kind === 'group';
    let lastSeq = readMeta(this.#server)?.lastSeq ?? 0;
    let last: ConversationFacts['lastMessage'] = null;
    let lastNumber = 0;
    let unread = 0;
    let mentions = 0;
    for (const content of this.#segments.values()) {
      const maps = segmentMaps(content);
      for (const [id, { seq, at }] of maps.seq.entries()) {
        lastSeq = Math.max(lastSeq, seq);
        const entry = maps.messages.get(id);
        if (!entry || maps.deletions.has(id)) continue;
        if (seq > lastNumber) {
          lastNumber = seq;
          last = { id: id as MessageId, author: entry.author, preview: preview(maps.edits.get(id)?.body || entry.body || filesLabel(entry.attachments)), at };
        }
        if (seq > read && entry.author !== me) {
          unread += 1;
          if (group && this.#mentionsMe(entry)) mentions += 1;
        }
      }
    }
    return { lastSeq, lastMessage: last, unread, mentions, updatedAt: Math.max(readMeta(this.#server)?.createdAt ?? 0, last?.at ?? 0) };
  }

  /**
   * Whether a message mentions the user: by id when its author knew the members when writing,
   * else by the exact @handle in the text (so @bob never counts for @bobby).
   */
  #mentionsMe(entry: MessageEntry): boolean {
    if (entry.mentions) return entry.mentions.includes(this.#host.userId);
    return mentionedHandles(entry.body).includes(this.#host.username.toLowerCase());
  }

  /** True once the server has numbered (durably stored) the message. */
  isNumbered(messageId: MessageId): boolean {
    for (const content of this.#segments.values()) if (segmentMaps(content).seq.has(messageId)) return true;
    return false;
  }

  /** True when every open document of the conversation is synced with the server. */
  synced(): boolean {
    const names = [serverDoc(this.id), ...[...this.#segments.keys()].map((n) => segmentDoc(this.id, n))];
    return names.every((name) => this.#host.connection.isSynced(name));
  }

  /** Names of this conversation's documents (for the client's bookkeeping). */
  documentNames(): string[] {
    return [serverDoc(this.id), ...[...this.#segments.keys()].map((n) => segmentDoc(this.id, n))];
  }

  close(): void {
    this.#closed = true;
    for (const fn of this.#cleanup.splice(0)) fn();
    this.#changeListeners.clear();
  }
}

function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > Limits.preview ? `${flat.slice(0, Limits.preview - 1)}…` : flat;
}

/** "📎 plan.pdf", "📷 Photo", "📷 3 photos" for a message without a caption. */
export function filesLabel(attachments: readonly AttachmentEntry[] | undefined): string {
  if (!attachments || attachments.length === 0) return '';
  const images = attachments.filter((a) => a.type.startsWith('image/') && a.width !== undefined).length;
  if (images === attachments.length) return images === 1 ? '📷 Photo' : `📷 ${images} photos`;
  return attachments.length === 1 ? `📎 ${attachments[0]?.name ?? 'File'}` : `📎 ${attachments.length} files`;
}

/** What a message shows of a file before the server has it. */
function localEntry(file: OutgoingMessage['files'][number]): AttachmentEntry {
  return {
    id: file.id,
    name: file.name,
    type: file.type,
    size: file.size,
    ...(file.preview ? { width: file.preview.width, height: file.preview.height } : {}),
  };
}

function checkBody(body: string, attachments = 0): void {
  const problem = bodyProblem(body, attachments);
  if (problem) throw new OutpostError(body.length > Limits.messageBody ? 'tooLarge' : 'invalidInput', problem);
}
