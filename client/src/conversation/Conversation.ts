// One conversation as the SDK user sees it: live messages, members and receipts, and the calls
// that change it. Every call writes the local documents first and returns at once; the socket
// carries the change when it can. A message's number arrives in its own segment, in the same
// update as the message itself (the `seq` root the server writes).
import type * as Y from 'yjs';
import {
  Limits,
  OutpostError,
  bodyProblem,
  storableBody,
  isValidEmoji,
  markRead,
  mentionedHandles,
  readMeta,
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
import { Timeline } from './Timeline.ts';
import { MessageWindow } from './MessageWindow.ts';
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
  /** Now on the server's clock as far as this device can tell (ServerClock): the time written into messages, edits, deletions and reactions. */
  now(): number;
  typingIn(conversationId: ConversationId): Live<UserId[]>;
  /** Starts syncing a document once the replica has loaded it. */
  sync(docName: string, doc: Y.Doc): void;
  /**
   * Stops syncing a document if nothing of it waits for the server (it has been through the
   * handshake, nothing unacknowledged, no pending operation). Returns whether it stopped.
   */
  release(docName: string): boolean;
  /** Resolves once the document has been through the sync handshake (at once if it has). */
  whenSynced(docName: string): Promise<void>;
  /** Where a message lives, asked of the server (for a deep link into history not loaded yet). */
  place(conversationId: ConversationId, messageId: MessageId): Promise<{ segment: number; seq: number }>;
  /** A small value kept with the replica. */
  recall(key: string): Promise<unknown>;
  remember(key: string, value: unknown): void;
  /** Older segments: fetched in the background and kept in memory ('all') or not ('replica'), or only when asked ('onDemand'). */
  history: HistoryMode;
  /** Runs a write as a user operation: its change and the pending operation are stored together. */
  record(kind: OperationKind, docName: string, messageId: MessageId | undefined, write: () => void): void;
  /** Segment numbers the replica holds for a conversation (some may be past the server's head). */
  storedSegments(conversationId: ConversationId): Promise<number[]>;
  /** Segments holding this user's changes that still wait for the server, left by earlier runs too. */
  pendingSegments(conversationId: ConversationId): Promise<number[]>;
  /** Messages with files waiting to upload, oldest first. */
  outgoing(conversationId: ConversationId): OutgoingMessage[];
  uploadState(messageId: MessageId): UploadState;
  /** Stores a message with files and starts uploading them. */
  addOutgoing(message: OutgoingMessage): Promise<void>;
  updateOutgoing(message: OutgoingMessage): Promise<void>;
  cancelOutgoing(messageId: MessageId): Promise<void>;
  retryOutgoing(messageId: MessageId): Promise<void>;
}

/**
 * How a conversation's older segments reach the device: 'all' fetches every one into the replica
 * in the background, newest first, and keeps them in memory; 'replica' fetches them the same way
 * (and again when they change on the server) but keeps in memory only the head, the recent ones
 * and what was asked for, so the device has its whole history offline (and searchable) at the
 * memory cost of what is on screen; 'onDemand' fetches only what is asked for (`loadOlder`,
 * `openAt`).
 */
export type HistoryMode = 'all' | 'replica' | 'onDemand';

/** Segments below the head a device keeps subscribed: the ones it wrote to last. */
export const RECENT_SEGMENTS = 2;

export class Conversation {
  readonly id: ConversationId;
  readonly #host: ConversationHost;
  #server: Y.Doc;
  /** Segment number → content document (messages, edits, reactions and their numbers). */
  readonly #segments = new Map<number, Y.Doc>();
  readonly #messages: Derived<readonly MessageItem[]>;
  readonly #window: Derived<MessageWindow>;
  /** The segments' messages in order, updated per change (see Timeline.ts). */
  readonly #timeline: Timeline;
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
  /** Segments with a live subscription: the head, the recently touched ones, those re-syncing. */
  readonly #attached = new Set<number>();
  /** Segments this device wrote to, most recent last (at most RECENT_SEGMENTS kept live). */
  #recent: number[] = [];
  /** Segment → the change counter its local copy is in step with (persisted in the replica). */
  readonly #seen = new Map<number, number>();
  /** Segments being fetched or re-synced now. */
  readonly #refreshing = new Map<number, Promise<void>>();
  /** Segments the replica held when the conversation opened. */
  #stored: Promise<Set<number>>;
  /** Background fetches and re-syncs run one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();
  readonly #queued = new Set<number>();
  #trimTimer: ReturnType<typeof setInterval> | undefined;
  /** The head this conversation subscribed to last (undefined until the server document says). */
  #knownHead: number | undefined;

  constructor(host: ConversationHost, id: ConversationId) {
    this.#host = host;
    this.id = id;
    this.#timeline = new Timeline(
      (n, seq, view) => {
        const refusal = seq === null && view.author === host.userId ? host.failureOf(segmentDoc(id, n)) : undefined;
        return {
          ...view,
          seq,
          status: seq !== null ? 'sent' : refusal ? 'failed' : 'pending',
          ...(refusal ? { failure: refusal.message } : {}),
          segment: n,
          mine: view.author === host.userId,
        };
      },
      () => {
        this.#messages.invalidate();
        this.#window.invalidate();
      },
    );
    this.#messages = new Derived(() => this.#computeMessages());
    this.#window = new Derived(() => new MessageWindow(this.#timeline, this.#outgoingItems()));
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
    this.#cleanup.push(
      host.onFailuresChanged(() => {
        this.#timeline.refresh();
        this.#changed();
      }),
    );
    this.#stored = host.storedSegments(id).then((numbers) => new Set(numbers));
    this.#followHead();
    const seen = host.recall(countersKey(id)).then((value) => {
      if (value && typeof value === 'object') for (const [n, counter] of Object.entries(value)) if (typeof counter === 'number') this.#seen.set(Number(n), counter);
    });
    void Promise.all([this.#stored, seen, host.docs.loaded(serverDoc(id)), host.pendingSegments(id)]).then(async ([stored, , , pending]) => {
      if (this.#closed) return;
      const head = readMeta(this.#server)?.head ?? 0;
      // Those written offline past the server's head hold this device's pending messages, and
      // older ones may hold its offline edits, deletions and reactions (made before the app
      // restarted, so no run subscribed them since): they stay subscribed until the server has it.
      for (const n of [...new Set([...stored].filter((n) => n > head).concat(pending))].sort((a, b) => b - a)) this.#touch(n);
      this.#followCounters();
      if (host.history !== 'all') return;
      // With history 'all' the replica's other segments open once the head is in (loading them
      // beside it would hold back the latest messages), newest first, as the replica loads them.
      if (stored.has(head)) await host.docs.loaded(segmentDoc(id, head));
      if (this.#closed) return;
      for (const n of [...stored].sort((a, b) => b - a)) if (n <= head) this.#segment(n);
    }).catch((error: unknown) => this.#failed('cannot open the conversation from the replica', error));
    this.#trimTimer = setInterval(() => this.#trim(), TRIM_EVERY_MS);
    (this.#trimTimer as { unref?: () => void }).unref?.();
  }

  #watchServer(doc: Y.Doc): void {
    const onServer = () => {
      this.#notifyLevel.invalidate();
      this.#members.invalidate();
      this.#receipts.invalidate();
      this.#meta.invalidate();
      this.#formerNames.invalidate();
      this.#events.invalidate();
      this.#followHead();
      this.#followCounters();
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
    this.#window.invalidate();
    this.#files.invalidate();
    for (const listener of this.#changeListeners) listener();
  }

  /**
   * Subscribes the head once the server document says which it is (a new device does not know
   * before its first sync, and must not guess segment 0). When the head holds less than a page,
   * the one before it comes next; with history 'all', every older segment follows, newest first.
   * When the head moves on by more than one (the device was away while others wrote), the
   * segments in between come too, newest first, whatever the history mode: they hold what was
   * written since, between the device's last head (still in memory) and the new one, and the
   * timeline would otherwise show a hole there.
   */
  #followHead(): void {
    const meta = readMeta(this.#server);
    if (!meta || this.#knownHead === meta.head) return;
    const previous = this.#knownHead;
    this.#knownHead = meta.head;
    const head = meta.head;
    this.#attach(head);
    if (previous !== undefined) {
      for (let n = head - 1; n > previous; n--) this.#enqueue(n);
      return;
    }
    void (async () => {
      // The head as the replica has it, or as the server sends it to a device that lacks it.
      const name = segmentDoc(this.id, head);
      if ((await this.#stored).has(head)) await this.#host.docs.loaded(name);
      else await this.#host.whenSynced(name);
      if (this.#closed) return;
      if (head > 0 && segmentMaps(this.#segment(head)).messages.size < LATEST_PAGE) this.#enqueue(head - 1);
      if (this.#host.history === 'all') for (let n = head - 1; n >= 0; n--) this.#enqueue(n);
      if (this.#host.history === 'replica') for (let n = head - 1; n >= 0; n--) this.#enqueue(n, 'backfill');
    })().catch((error: unknown) => this.#failed('cannot open the latest messages', error));
  }

  /** The segment's document, opened from the replica (not subscribed: see #attach). */
  #segment(n: number): Y.Doc {
    const existing = this.#segments.get(n);
    if (existing) return existing;
    const content = this.#host.docs.open(segmentDoc(this.id, n));
    this.#segments.set(n, content);
    this.#timeline.follow(n, content);
    this.#watchSegment(content);
    this.#changed();
    return content;
  }

  /** Opens the segment and keeps it subscribed until #trim finds it no longer wanted. */
  #attach(n: number): Y.Doc {
    const doc = this.#segment(n);
    if (!this.#attached.has(n)) {
      this.#attached.add(n);
      this.#host.sync(segmentDoc(this.id, n), doc);
    }
    return doc;
  }

  /** This device writes into segment n: it stays subscribed while among the recent ones. */
  #touch(n: number): Y.Doc {
    this.#recent = [...this.#recent.filter((m) => m !== n), n].slice(-RECENT_SEGMENTS);
    return this.#attach(n);
  }

  /**
   * Ends the subscriptions no longer wanted: everything but the head, the recently touched
   * segments, those being re-synced and those past the head (pending offline writes). A segment
   * with unacknowledged work stays until the server has it. What was live is in step with the
   * server now, at the counter the server document shows.
   */
  #trim(): void {
    if (this.#closed) return;
    const head = readMeta(this.#server)?.head ?? 0;
    const counters = serverMaps(this.#server).segments;
    let seenChanged = false;
    for (const n of [...this.#attached]) {
      if (n >= head || this.#recent.includes(n) || this.#refreshing.has(n)) continue;
      if (!this.#host.connection.isSynced(segmentDoc(this.id, n))) continue;
      if (!this.#host.release(segmentDoc(this.id, n))) continue;
      this.#attached.delete(n);
      this.#seen.set(n, counters.get(String(n)) ?? 0);
      seenChanged = true;
    }
    if (seenChanged) this.#rememberSeen();
  }

  #rememberSeen(): void {
    this.#host.remember(countersKey(this.id), Object.fromEntries(this.#seen));
  }

  /** Work of this conversation that failed: nothing to say once it is closed (the replica went with it). */
  #failed(what: string, error: unknown): void {
    if (!this.#closed) console.error(`outpost conversation ${this.id}: ${what}`, error);
  }

  /**
   * Re-syncs every local segment whose change counter moved since its copy was in step (with
   * history 'replica', those only in the replica too).
   */
  #followCounters(): void {
    const counters = serverMaps(this.#server).segments;
    for (const n of this.#segments.keys()) {
      if (this.#attached.has(n)) continue;
      if (this.#seen.get(n) !== (counters.get(String(n)) ?? 0)) this.#enqueue(n);
    }
    if (this.#host.history !== 'replica') return;
    void this.#stored
      .then((stored) => {
        if (this.#closed) return;
        for (const n of stored) {
          if (this.#segments.has(n) || n >= (this.#knownHead ?? 0)) continue;
          if (this.#seen.get(n) !== (counters.get(String(n)) ?? 0)) this.#enqueue(n, 'backfill');
        }
      })
      .catch((error: unknown) => this.#failed('cannot read which segments the replica holds', error));
  }

  /**
   * Queues a background fetch or re-sync of segment n (one at a time, in the order asked): into
   * memory, or with 'backfill' into the replica only (see #backfill).
   */
  #enqueue(n: number, kind: 'bring' | 'backfill' = 'bring'): void {
    if (this.#queued.has(n)) return;
    this.#queued.add(n);
    // A segment that fails (the replica closed under it, a read refused) does not stop the others.
    this.#queue = this.#queue.then(async () => {
      this.#queued.delete(n);
      if (this.#closed) return;
      try {
        if (kind === 'bring' || this.#segments.has(n)) await this.#bring(n);
        else await this.#backfill(n);
      } catch (error) {
        this.#failed(`cannot bring segment ${n}`, error);
      }
    });
  }

  /**
   * Brings segment n into the replica in step with the server without keeping it in memory: it is
   * opened, subscribed until the sync handshake is done, then closed (the local search index
   * read it meanwhile). Nothing to do when the replica's copy is at the server's counter.
   */
  async #backfill(n: number): Promise<void> {
    const stored = await this.#stored;
    const counter = serverMaps(this.#server).segments.get(String(n)) ?? 0;
    if (stored.has(n) && this.#seen.get(n) === counter) return;
    const name = segmentDoc(this.id, n);
    const doc = this.#host.docs.open(name);
    try {
      await this.#host.docs.loaded(name);
      this.#host.sync(name, doc);
      await this.#host.whenSynced(name);
      this.#seen.set(n, counter);
      this.#rememberSeen();
      stored.add(n);
    } finally {
      // Asked for meanwhile (scrolled to, a deep link): it stays, its subscription trimmed as any other's.
      if (this.#segments.has(n)) this.#attached.add(n);
      else if (this.#host.release(name)) await this.#host.docs.close(name);
    }
    if (!this.#closed && (serverMaps(this.#server).segments.get(String(n)) ?? 0) !== counter) this.#enqueue(n, 'backfill');
  }

  /**
   * Brings segment n in step with the server: subscribes it until the sync handshake is done,
   * notes the counter it is in step with, and lets #trim end the subscription.
   */
  #refresh(n: number): Promise<void> {
    const running = this.#refreshing.get(n);
    if (running) return running;
    if (this.#attached.has(n)) return this.#host.whenSynced(segmentDoc(this.id, n));
    const counter = serverMaps(this.#server).segments.get(String(n)) ?? 0;
    const name = segmentDoc(this.id, n);
    const work = (async () => {
      this.#attach(n);
      await this.#host.whenSynced(name);
      this.#seen.set(n, counter);
      this.#rememberSeen();
    })().finally(() => {
      this.#refreshing.delete(n);
      this.#trim();
      // It moved again while this sync ran: once more.
      if (!this.#closed && (serverMaps(this.#server).segments.get(String(n)) ?? 0) !== counter) this.#enqueue(n);
    });
    this.#refreshing.set(n, work);
    return work;
  }

  /** Numbers of the segments on this device now, oldest first. */
  loadedSegments(): number[] {
    return [...this.#segments.keys()].sort((a, b) => a - b);
  }

  /** Segments subscribed now (the head, recently touched and re-syncing ones). */
  subscribedSegments(): number[] {
    return [...this.#attached].sort((a, b) => a - b);
  }

  /**
   * Brings the next older segment onto the device (from the replica, or from the server when
   * the replica does not have it or it changed). Resolves to false when there is none older.
   * Offline, a segment the replica lacks waits for the connection.
   */
  async loadOlder(): Promise<boolean> {
    await this.#host.docs.loaded(serverDoc(this.id));
    const head = readMeta(this.#server)?.head ?? 0;
    let oldest = head;
    while (oldest > 0 && this.#segments.has(oldest - 1)) oldest -= 1;
    if (oldest === 0) return false;
    await this.#bring(oldest - 1);
    return true;
  }

  /** The segment on this device, in step with the server when the replica lacks it or it changed. */
  async #bring(n: number): Promise<void> {
    const stored = await this.#stored;
    const doc = this.#segment(n);
    await this.#host.docs.loaded(segmentDoc(this.id, n));
    const counter = serverMaps(this.#server).segments.get(String(n)) ?? 0;
    if (stored.has(n) && segmentMaps(doc).messages.size > 0 && this.#seen.get(n) === counter) return;
    await this.#refresh(n);
  }

  /**
   * Makes sure the message is on this device, fetching only its own segment when it is not (a
   * deep link into last year's history opens there without loading what lies between). Throws
   * notFound when the server does not know it.
   */
  async openAt(messageId: MessageId): Promise<void> {
    if (this.has(messageId)) return;
    await this.#host.docs.loaded(serverDoc(this.id));
    let segment: number;
    try {
      segment = (await this.#host.place(this.id, messageId)).segment;
    } catch (error) {
      // Offline (or not numbered yet): look through the segments the replica has.
      for (const n of [...(await this.#stored)].sort((a, b) => b - a)) {
        this.#segment(n);
        await this.#host.docs.loaded(segmentDoc(this.id, n));
        if (this.has(messageId)) return;
      }
      throw error;
    }
    await this.#bring(segment);
    if (!this.has(messageId)) await this.#refresh(segment);
  }

  #watchSegment(doc: Y.Doc): void {
    // After each transaction rather than on 'update': with no 'update' listener, loading a
    // segment from the replica does not make Yjs encode it again (DocStore).
    const changed = () => this.#changed();
    doc.on('afterTransaction', changed);
    this.#cleanup.push(() => doc.off('afterTransaction', changed));
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
      this.#timeline.follow(n, fresh);
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
    // Messages without a number are at the end of the order.
    for (const item of this.#timeline.newestFirst()) {
      if (item.seq !== null) break;
      if (item.mine) pending = Math.max(pending, item.segment);
    }
    if (pending >= 0) return pending;
    const meta = readMeta(this.#server);
    let head = meta?.head ?? 0;
    const size = meta?.segmentSize ?? Limits.segmentSize;
    while (segmentMaps(this.#segment(head)).messages.size >= size) head += 1;
    return head;
  }

  /** The segment that holds the message; it is about to be written, so it is subscribed. */
  #segmentOf(messageId: MessageId): { n: number; content: Y.Doc } {
    const n = this.#timeline.get(messageId)?.segment;
    if (n !== undefined && this.#segments.get(n) && segmentMaps(this.#segments.get(n) as Y.Doc).messages.has(messageId)) return { n, content: this.#touch(n) };
    throw new OutpostError('notFound', 'no such message in this conversation');
  }

  #computeMessages(): readonly MessageItem[] {
    const numbered = this.#timeline.items();
    const outgoing = this.#outgoingItems();
    return outgoing.length === 0 ? numbered : [...numbered, ...outgoing].sort(compareMessages);
  }

  /** Messages waiting for their files; one delivered a moment ago is in its segment already. */
  #outgoingItems(): MessageItem[] {
    return this.#host
      .outgoing(this.id)
      .filter((message) => this.#timeline.get(message.id) === undefined)
      .map((message) => ({
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
        upload: this.#host.uploadState(message.id),
      }));
  }

  /**
   * Live messages in canonical order (numbered by seq, then unnumbered by creation time), of the
   * segments on this device. Kept up to date per change: a new message, edit, deletion or
   * reaction reads only what it touched; the array is a new one (a copy of references) after
   * each change and the same one while nothing changed.
   */
  messages(): Live<readonly MessageItem[]> {
    return this.#messages;
  }

  /**
   * The same messages as `messages()`, read in place: a range, a position, a message by id, the
   * newest back. A change costs O(log n) here instead of a copy of the history, so a screen that
   * shows a window of a long conversation should read this.
   */
  window(): Live<MessageWindow> {
    return this.#window;
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
  send(written: string, options: { replyTo?: MessageId; attachments?: readonly AttachmentInput[] } = {}): MessageId {
    if (!this.canPost()) throw new OutpostError('forbidden', 'this group is locked: only its owner and admins can post');
    const files = options.attachments ?? [];
    const body = storableBody(written);
    checkBody(body, files.length);
    if (files.length > Limits.attachmentsPerMessage) throw new OutpostError('tooLarge', `a message carries at most ${Limits.attachmentsPerMessage} files`);
    if (files.length > 0) return this.#sendWithFiles(body, files, options.replyTo);
    const id = globalThis.crypto.randomUUID() as MessageId;
    const n = this.#targetSegment();
    const doc = this.#touch(n);
    const mentions = this.#mentions(body);
    this.#host.record('send', segmentDoc(this.id, n), id, () =>
      writeMessage(doc, id, {
        author: this.#host.userId,
        createdAt: this.#host.now(),
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
      createdAt: this.#host.now(),
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
    const doc = this.#touch(n);
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

  /** True when the message is in one of the conversation's segments on this device. */
  has(messageId: MessageId): boolean {
    return this.#timeline.get(messageId) !== undefined;
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

  edit(messageId: MessageId, written: string): void {
    const body = storableBody(written);
    checkBody(body);
    const { n, content } = this.#segmentOf(messageId);
    const maps = segmentMaps(content);
    if (maps.messages.get(messageId)?.author !== this.#host.userId) throw new OutpostError('forbidden', 'only the author edits a message');
    if (maps.deletions.has(messageId)) throw new OutpostError('notFound', 'this message was deleted');
    this.#host.record('edit', segmentDoc(this.id, n), messageId, () => writeEdit(content, messageId, { body, editedAt: this.#host.now() }));
  }

  delete(messageId: MessageId): void {
    const { n, content } = this.#segmentOf(messageId);
    if (segmentMaps(content).deletions.has(messageId)) return;
    this.#host.record('delete', segmentDoc(this.id, n), messageId, () => writeDeletion(content, messageId, { by: this.#host.userId, at: this.#host.now() }));
  }

  react(messageId: MessageId, emoji: string): void {
    if (!isValidEmoji(emoji)) throw new OutpostError('invalidInput', 'not a valid reaction');
    const { n, content } = this.#segmentOf(messageId);
    if (segmentMaps(content).deletions.has(messageId)) throw new OutpostError('notFound', 'this message was deleted');
    this.#host.record('react', segmentDoc(this.id, n), messageId, () => writeReaction(content, messageId, emoji, this.#host.userId, this.#host.now()));
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
    const max = readMeta(this.#server)?.lastSeq ?? 0;
    for (const item of this.#timeline.newestFirst()) if (item.seq !== null) return Math.max(max, item.seq);
    return max;
  }

  /**
   * What the conversation list shows: last message, unread and mention counts. It looks at the
   * recent end only: from the newest message back to the read position.
   */
  facts(): ConversationFacts {
    const me = this.#host.userId;
    const read = this.readPosition();
    const group = readMeta(this.#server)?.kind === 'group';
    let lastSeq = readMeta(this.#server)?.lastSeq ?? 0;
    let last: ConversationFacts['lastMessage'] = null;
    let unread = 0;
    let mentions = 0;
    let seqAt = 0;
    for (const item of this.#timeline.newestFirst()) {
      if (item.seq === null) continue;
      lastSeq = Math.max(lastSeq, item.seq);
      if (item.seq <= read && last !== null) break;
      if (item.deleted) continue;
      if (last === null) {
        last = { id: item.id, author: item.author, preview: preview(item.body || filesLabel(item.attachments)), at: 0 };
        seqAt = this.#numberedAt(item);
      }
      if (item.seq > read && item.author !== me) {
        unread += 1;
        if (group && this.#mentionsMe(item)) mentions += 1;
      }
    }
    if (last) last.at = seqAt;
    return { lastSeq, lastMessage: last, unread, mentions, updatedAt: Math.max(readMeta(this.#server)?.createdAt ?? 0, last?.at ?? 0) };
  }

  /** When the server numbered (received) a message. */
  #numberedAt(item: MessageItem): number {
    const doc = this.#segments.get(item.segment);
    return (doc && segmentMaps(doc).seq.get(item.id)?.at) ?? item.createdAt;
  }

  /**
   * Whether a message mentions the user: by id when its author knew the members when writing,
   * else by the exact @handle in the text (so @bob never counts for @bobby).
   */
  #mentionsMe(entry: Pick<MessageEntry, 'mentions' | 'body'>): boolean {
    if (entry.mentions) return entry.mentions.includes(this.#host.userId);
    return mentionedHandles(entry.body).includes(this.#host.username.toLowerCase());
  }

  /** True once the server has numbered (durably stored) the message. */
  isNumbered(messageId: MessageId): boolean {
    const item = this.#timeline.get(messageId);
    return item !== undefined && item.seq !== null;
  }

  /**
   * True when the conversation is in step with the server: every subscribed document has been
   * through the sync handshake and no older segment is waiting to be fetched or re-synced.
   */
  synced(): boolean {
    if (this.#refreshing.size > 0 || this.#queued.size > 0) return false;
    const names = [serverDoc(this.id), ...[...this.#attached].map((n) => segmentDoc(this.id, n))];
    return names.every((name) => this.#host.connection.isSynced(name));
  }

  /** Names of this conversation's documents (for the client's bookkeeping). */
  documentNames(): string[] {
    return [serverDoc(this.id), ...[...this.#segments.keys()].map((n) => segmentDoc(this.id, n))];
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#trimTimer);
    this.#timeline.close();
    for (const fn of this.#cleanup.splice(0)) fn();
    this.#changeListeners.clear();
  }
}

/** Messages a conversation shows first: when the head holds fewer, the segment before it loads too. */
const LATEST_PAGE = 50;
/** How often subscriptions no longer wanted are ended. */
const TRIM_EVERY_MS = 2_000;

function countersKey(id: ConversationId): string {
  return `segmentCounters:${id}`;
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
