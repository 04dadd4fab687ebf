// Server-owned documents (`conv:<id>:server`, `inbox:<id>`) are views of the relational tables,
// and each segment's `seq` root is a view of the numbering. They are brought in line with the
// tables when they load and when the tables change, through the write path (committed before
// any client sees them). Per-member facts that change often (receipts) are pushed coalesced.
import type * as Y from 'yjs';
import {
  ServerRoots,
  InboxRoots,
  epochOf,
  isServerClientId,
  segmentMaps,
  serverClientId,
  serverMaps,
  type ConversationId,
  type FormerMemberEntry,
  type InboxEntry,
  type MemberEntry,
  type MessageEntry,
  type MessageId,
  type RemovalEntry,
  type TimelineEventEntry,
  type UserId,
  TIMELINE_EVENTS_KEPT,
} from '@outpost/shared-schema';
import type { NewMessage, Storage } from '@outpost/storage';
import type { Logger } from '../log.ts';
import { InFlight } from './inFlight.ts';
import { reconcileOps, type MapOp } from './serverWrites.ts';
import { removalOps } from './messageRemoval.ts';
import { SEGMENT_SERVER_CLIENT, type WritePath } from './writePath.ts';

/** How often coalesced receipts are pushed into open server documents. */
const RECEIPTS_EVERY_MS = 500;
/** How often segment change counters are bumped in open server documents (coalesced). */
const COUNTERS_EVERY_MS = 200;
/** Removals an inbox remembers. */
const REMOVALS_KEPT = 50;

/** The server's client id in a server-owned document: its current epoch (1 for a new one). */
function serverClientOf(doc: Y.Doc): number {
  let epoch = 0;
  for (const client of doc.store.clients.keys()) if (isServerClientId(client)) epoch = Math.max(epoch, epochOf(client));
  return serverClientId(Math.max(epoch, 1));
}

export interface OpenDocuments {
  get(name: string): Y.Doc | undefined;
}

export class ServerDocuments {
  readonly #storage: Storage;
  readonly #writePath: WritePath;
  readonly #open: OpenDocuments;
  readonly #segmentSize: number;
  readonly #log: Logger;
  readonly #contentRemoved: (name: string) => void;
  readonly #dirtyReceipts = new Set<ConversationId>();
  #receiptsTimer: NodeJS.Timeout | null = null;
  /** Conversation → segments below the head that changed since the last bump. */
  readonly #changedSegments = new Map<ConversationId, Set<number>>();
  #countersTimer: NodeJS.Timeout | null = null;
  readonly #work = new InFlight();
  /** Per document, the reconciliation running or queued last (see #inTurn). */
  readonly #turns = new Map<string, Promise<void>>();

  constructor(options: { storage: Storage; writePath: WritePath; open: OpenDocuments; segmentSize: number; log: Logger; contentRemoved?: (name: string) => void }) {
    this.#contentRemoved = options.contentRemoved ?? (() => undefined);
    this.#storage = options.storage;
    this.#writePath = options.writePath;
    this.#open = options.open;
    this.#segmentSize = options.segmentSize;
    this.#log = options.log;
  }

  // ── reconciling one document with the tables ──

  /** `conv:<id>:server`: meta, members, former members and receipts as the tables hold them. */
  reconcileServer(conversationId: ConversationId, doc: Y.Doc): Promise<void> {
    return this.#inTurn(`conv:${conversationId}:server`, () => this.#reconcileServer(conversationId, doc));
  }

  async #reconcileServer(conversationId: ConversationId, doc: Y.Doc): Promise<void> {
    const { conversations, accounts, projection } = this.#storage;
    const conversation = await conversations.getConversation(conversationId);
    if (!conversation) return;
    const [members, former, reads, events, posting] = await Promise.all([
      conversations.getMembers(conversationId),
      conversations.getFormerMembers(conversationId),
      projection.getReadPositions(conversationId),
      conversations.listEvents(conversationId, TIMELINE_EVENTS_KEPT),
      this.#storage.moderation.getPosting(conversationId),
    ]);
    const users = new Map((await accounts.getUsersByIds([...members, ...former].map((m) => m.userId))).map((u) => [u.id, u]));
    const desired = {
      [ServerRoots.meta]: {
        kind: conversation.kind,
        title: conversation.title,
        createdBy: conversation.createdBy,
        createdAt: conversation.createdAt,
        head: conversation.head,
        lastSeq: conversation.lastSeq,
        segmentSize: this.#segmentSize,
        posting,
      },
      [ServerRoots.members]: Object.fromEntries(
        members.map((m): [string, MemberEntry] => [
          m.userId,
          { role: m.role, joinedAt: m.joinedAt, username: users.get(m.userId)?.username ?? '', displayName: users.get(m.userId)?.displayName ?? '' },
        ]),
      ),
      [ServerRoots.formerMembers]: Object.fromEntries(
        former.map((f): [string, FormerMemberEntry] => [f.userId, { username: users.get(f.userId)?.username ?? '', displayName: users.get(f.userId)?.displayName ?? '' }]),
      ),
      [ServerRoots.receipts]: Object.fromEntries(members.map((m) => [m.userId, { read: reads.get(m.userId) ?? 0 }])),
      [ServerRoots.events]: Object.fromEntries(
        events.map((e): [string, TimelineEventEntry] => [
          String(e.id),
          { kind: e.kind, at: e.at, by: e.actor, ...(e.subject ? { user: e.subject } : {}), ...(e.title !== null ? { title: e.title } : {}) },
        ]),
      ),
    };
    await this.#write(`conv:${conversationId}:server`, doc, (current) =>
      reconcileOps(current, desired, [ServerRoots.members, ServerRoots.formerMembers, ServerRoots.receipts, ServerRoots.events]),
    );
  }

  /** `inbox:<id>`: the user's conversations and the ones they were removed from. */
  reconcileInbox(userId: UserId, doc: Y.Doc): Promise<void> {
    return this.#inTurn(`inbox:${userId}`, () => this.#reconcileInbox(userId, doc));
  }

  async #reconcileInbox(userId: UserId, doc: Y.Doc): Promise<void> {
    const { conversations, accounts } = this.#storage;
    // One query for the list, whatever the size of its groups (reading every member of each
    // conversation took 300 rows per 300-member group, for each of its members' inboxes).
    const [mine, removals] = await Promise.all([conversations.listMemberships(userId), conversations.listRemovals(userId, REMOVALS_KEPT)]);
    const entries: Record<string, InboxEntry> = {};
    const peers = mine.flatMap(({ peer }) => (peer ? [peer] : []));
    const names = new Map(
      (await accounts.getUsersByIds([...peers, ...removals.flatMap((r) => (r.removedBy ? [r.removedBy] : []))])).map((u) => [u.id, u.displayName]),
    );
    for (const { conversation, joinedAt, peer } of mine) {
      entries[conversation.id] = {
        kind: conversation.kind,
        title: conversation.kind === 'dm' ? ((peer && names.get(peer)) ?? conversation.title) : conversation.title,
        joinedAt,
      };
    }
    const gone: Record<string, RemovalEntry> = {};
    for (const removal of removals) {
      if (entries[removal.conversation.id]) continue;
      gone[removal.conversation.id] = {
        kind: removal.conversation.kind,
        title: removal.conversation.title,
        by: removal.removedBy,
        byName: removal.removedBy ? (names.get(removal.removedBy) ?? '') : '',
        at: removal.leftAt,
      };
    }
    await this.#write(`inbox:${userId}`, doc, (current) => reconcileOps(current, { [InboxRoots.conversations]: entries, [InboxRoots.removals]: gone }, [InboxRoots.conversations, InboxRoots.removals]));
  }

  /**
   * A segment's `seq` root holds every number storage has for it; messages the log holds that
   * were never numbered (a log written before numbering moved into the commit) get one now.
   */
  async reconcileSegment(conversationId: ConversationId, segment: number, doc: Y.Doc): Promise<void> {
    const numbered = await this.#storage.projection.listSegmentNumbers(conversationId, segment);
    const known = new Set<string>(numbered.map((n) => n.id));
    const maps = segmentMaps(doc);
    const unnumbered: NewMessage[] = [];
    for (const [id, entry] of maps.messages.entries() as IterableIterator<[string, MessageEntry]>) {
      if (known.has(id)) continue;
      // An id numbered in another segment (a forgery an older server let in) is never numbered again.
      if (await this.#storage.projection.getMessage(conversationId, id as MessageId)) continue;
      unnumbered.push({ id: id as MessageId, segment, author: entry.author, createdAt: entry.createdAt, body: entry.body, ...(entry.replyTo ? { replyTo: entry.replyTo } : {}) });
    }
    unnumbered.sort((a, b) => a.createdAt - b.createdAt);
    const missing = numbered.filter((n) => maps.messages.has(n.id) && !maps.seq.has(n.id)).map((n) => ({ id: n.id, seq: n.seq, at: n.receivedAt }));
    // Messages deleted before deletion was real still hold their text in the segment: replace them
    // with tombstones now, and the log follows (erasure.ts).
    const legacy = removalOps(doc, { messages: (_id, _entry, deleted) => deleted, by: (entry) => entry.author }, Date.now());
    if (legacy.ops.length > 0) {
      const name = `conv:${conversationId}:${segment}`;
      const written = await this.#writePath.serverWrite(name, doc, (current) => {
        const ops = removalOps(current, { messages: (_id, _entry, deleted) => deleted, by: (entry) => entry.author }, Date.now()).ops;
        return ops.length === 0 ? null : { client: SEGMENT_SERVER_CLIENT, ops };
      });
      if (written) {
        this.#log.info('deleted messages from before real deletion were replaced by tombstones', { conversationId, segment, count: legacy.removed.length });
        this.#contentRemoved(name);
      }
    }
    if (missing.length === 0 && unnumbered.length === 0) return;
    if (unnumbered.length > 0) this.#log.info('numbering messages found unnumbered on load', { conversationId, segment, count: unnumbered.length });
    await this.#writePath.serverWrite(`conv:${conversationId}:${segment}`, doc, () => ({
      client: SEGMENT_SERVER_CLIENT,
      ops: [],
      knownSeq: missing,
      ...(unnumbered.length > 0 ? { messages: { conversationId, segmentSize: this.#segmentSize, list: unnumbered } } : {}),
    }));
  }

  /**
   * Runs a reconciliation of `name` after the one before it has written. A reconciliation reads
   * the tables, then writes the difference: two at once could write in the other order, and the
   * older read would undo the newer (a group created while its member's inbox loaded went missing
   * from that inbox until the next change). One at a time, the last write follows the last read.
   */
  #inTurn(name: string, work: () => Promise<void>): Promise<void> {
    const turn = (this.#turns.get(name) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.#turns.set(name, turn);
    const forget = () => {
      if (this.#turns.get(name) === turn) this.#turns.delete(name);
    };
    turn.then(forget, forget);
    return turn;
  }

  // ── when the tables change ──

  /** Members, roles, titles or names changed: the open server doc and the affected inboxes follow. */
  async conversationChanged(conversationId: ConversationId, users: readonly UserId[]): Promise<void> {
    const server = this.#open.get(`conv:${conversationId}:server`);
    if (server) await this.reconcileServer(conversationId, server);
    for (const userId of new Set(users)) {
      const inbox = this.#open.get(`inbox:${userId}`);
      if (inbox) await this.reconcileInbox(userId, inbox);
    }
  }

  /** The head moved on (a segment filled up): members' server docs say where to write now. */
  headMoved(conversationId: ConversationId): void {
    this.#track(this.conversationChanged(conversationId, []));
  }

  /** Read positions moved: receipts follow within RECEIPTS_EVERY_MS, coalesced per conversation. */
  receiptsChanged(conversationIds: Iterable<ConversationId>): void {
    for (const id of conversationIds) this.#dirtyReceipts.add(id);
    this.#receiptsTimer ??= setTimeout(() => {
      this.#receiptsTimer = null;
      const dirty = [...this.#dirtyReceipts];
      this.#dirtyReceipts.clear();
      for (const id of dirty) {
        const server = this.#open.get(`conv:${id}:server`);
        if (server) this.#track(this.reconcileServer(id, server));
      }
    }, RECEIPTS_EVERY_MS);
  }

  /**
   * Something changed in a segment (a message, its number, an edit, a deletion, a reaction).
   * Below the head, the segment's change counter in the server document moves, coalesced per
   * conversation: clients keep only the head and recently touched segments subscribed and
   * re-sync an older one when its counter moves. Counters live in the server document (through
   * the log), so they need the document open on this node, as it is while its writer is
   * connected: the SDK syncs a conversation's server document with its segments.
   */
  segmentChanged(conversationId: ConversationId, segment: number): void {
    let segments = this.#changedSegments.get(conversationId);
    if (!segments) this.#changedSegments.set(conversationId, (segments = new Set()));
    segments.add(segment);
    this.#countersTimer ??= setTimeout(() => {
      this.#countersTimer = null;
      const changed = [...this.#changedSegments];
      this.#changedSegments.clear();
      for (const [id, numbers] of changed) {
        const server = this.#open.get(`conv:${id}:server`);
        if (server) this.#track(this.#bumpCounters(id, server, numbers));
      }
    }, COUNTERS_EVERY_MS);
  }

  async #bumpCounters(conversationId: ConversationId, doc: Y.Doc, segments: ReadonlySet<number>): Promise<void> {
    await this.#write(`conv:${conversationId}:server`, doc, (current) => {
      const head = Number(serverMaps(current).meta.get('head') ?? 0);
      const counters = serverMaps(current).segments;
      return [...segments]
        .filter((n) => n < head)
        .map((n): MapOp => ({ root: ServerRoots.segments, key: String(n), value: (counters.get(String(n)) ?? 0) + 1 }));
    });
  }

  /** Resolves when pushed changes are written; stops the coalescing timers. */
  async close(): Promise<void> {
    if (this.#receiptsTimer) clearTimeout(this.#receiptsTimer);
    this.#receiptsTimer = null;
    if (this.#countersTimer) clearTimeout(this.#countersTimer);
    this.#countersTimer = null;
    await this.#work.settled();
  }

  #track(work: Promise<unknown>): void {
    void this.#work.track(work.catch((error: unknown) => this.#log.warn('a server-owned document could not be brought in line; it is on its next load', { error })));
  }

  async #write(name: string, doc: Y.Doc, ops: (doc: Y.Doc) => MapOp[]): Promise<void> {
    await this.#writePath.serverWrite(name, doc, (current) => {
      const planned = ops(current);
      return planned.length === 0 ? null : { client: serverClientOf(current), ops: planned };
    });
  }
}
