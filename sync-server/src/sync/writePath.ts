// The write path, in one place: a client's update to a content segment or to its user document
//
//   decode → judge (analyze: what would it do; validate: may this sender do it)
//          → commit (log entry + sequence numbers + read positions, one batched transaction)
//          → apply (exactly the committed bytes; Hocuspocus broadcasts them) → fan out
//
// all inside the document's lock, so what was judged is what is applied. An update that cannot
// integrate yet, or refers to a message the segment does not hold yet, waits (held.ts) and is
// judged when more has arrived. The server's own writes (sequence
// numbers, server-owned documents) take the same path: committed before anyone sees them.
import type { Connection, Document } from '@hocuspocus/server';
import * as Y from 'yjs';
import {
  SegmentRoots,
  serverClientId,
  type ConversationId,
  type DocName,
  type MessageEntry,
  type MessageId,
  type Role,
  type SeqEntry,
  type UserId,
} from '@outpost/shared-schema';
import type { CommitOutcome } from '@outpost/storage';
import type { CommitRequest, CommitResult } from './commitRequest.ts';
import type { Logger } from '../log.ts';
import { metrics, secondsSince } from '../metrics.ts';
import { startSpan, traced, tracedSync } from '../tracing.ts';
import { analyzeUpdate, refusedForServerStructs, type Analysis } from './analyze.ts';
import type { Committer } from './committer.ts';
import type { LoadedDocuments } from './documents.ts';
import { independentRun, type BatchMember } from './batch.ts';
import { DocLocks } from './docLock.ts';
import { HeldUpdates, type HeldUpdate } from './held.ts';
import { Refused, retryLater, ruleBroken } from './refusals.ts';
import { syncStatusFrame } from './frames.ts';
import { encodeServerWrite, type DeleteRange, type MapOp } from './serverWrites.ts';
import { validateSegment, validateUser, type SegmentChanges, type Sender, type UserDocChanges } from './validate.ts';

/** The server's client id in content segments (they are never rebuilt, so epoch 0 for ever). */
export const SEGMENT_SERVER_CLIENT = serverClientId(0);

/** How long an update waits for its document's lock before it is refused as "try again". */
const LOCK_DEADLINE_MS = 10_000;
/** Catch-up rounds when another node keeps appending first. */
const STALE_RETRIES = 5;
/**
 * Held updates of one device judged together, at most (see #releaseTogether): the waits it breaks
 * are between a few small frames; beyond this the updates wait out their time instead of every
 * new frame re-judging megabytes of them.
 */
const JOINED_AT_MOST = { updates: 16, bytes: 256 * 1024 };
/** Messages an update waits for that are looked up elsewhere in the conversation, at most. */
const WAITING_LOOKUPS = 8;

/** The refusal of a member's message in a locked group; the SDK tells it by `isPostingLocked`. */
export const POSTING_LOCKED = 'this group is locked: only its owner and admins post';

/** A client's update as the write path receives it. */
export interface Submission {
  name: string;
  docName: Extract<DocName, { kind: 'segment' | 'user' }>;
  doc: Document;
  /** The update; the write path trims from it what the log holds of the server's own items. */
  update: Uint8Array;
  sender: Sender;
  /** The sender's role in the conversation (segments). */
  role: Role | null;
  connection: Connection;
  /** Update frames are acknowledged by the write path; a sync step 2 by Hocuspocus (unless held). */
  frame: 'update' | 'step2';
  /** When the node received it (`performance.now()`), for the numbering latency. */
  receivedAt?: number;
}

/**
 * A server write: map ops against the current copy; with `messages`, those are numbered in the
 * same commit and their `seq` entries follow the ops.
 */
export interface ServerPlan {
  client: number;
  ops: readonly MapOp[];
  deletes?: readonly DeleteRange[];
  messages?: CommitRequest['messages'];
  /** `seq` entries for messages numbered before (new keys of a segment's `seq` root). */
  knownSeq?: readonly ({ id: string } & SeqEntry)[];
}

/** Where the write path hands over: admission of new messages, and fan-out once applied. */
export interface WritePathHooks {
  /** Throws (rateLimited) when the sender may not write this many new messages now. */
  admitMessages(userId: UserId, count: number): Promise<void>;
  /** Whether a member with `role` may post new messages in the conversation (a locked group: owner and admins only). */
  mayPost(conversationId: ConversationId, role: Role): Promise<boolean>;
  /** The segment where a message of the conversation was numbered, or null when none was. */
  numberedIn(conversationId: ConversationId, messageId: MessageId): Promise<number | null>;
  /** An entry was committed and applied at `version` (compaction counts these; other nodes hear of it). */
  committed(name: string, version: number, entry: Uint8Array): void;
  segmentApplied(conversationId: ConversationId, segment: number, doc: Y.Doc, changes: SegmentChanges, outcome: Extract<CommitOutcome, { ok: true }>): void;
  readsApplied(userId: UserId, reads: UserDocChanges['reads']): void;
}

type Held = { submission: Submission };

/** A segment update waiting for its turn, and who waits for its outcome. */
interface Queued {
  submission: Submission;
  resolve: (result: 'applied' | 'empty' | 'held') => void;
  reject: (error: unknown) => void;
  /** Its turn came (ends the span of its wait for the lock). */
  started: () => void;
}

export class WritePath {
  readonly #documents: LoadedDocuments;
  readonly #committer: Committer;
  readonly #log: Logger;
  readonly #segmentSize: number;
  readonly #hooks: WritePathHooks;
  readonly #locks = new DocLocks();
  readonly #held = new HeldUpdates<Held>();
  /** New messages each update was charged for (see #admit). */
  readonly #charged = new WeakMap<Submission, number>();
  /** Batches each update was in that found the log moved on (see #writeBatch). */
  readonly #staleRounds = new WeakMap<Submission, number>();
  /** Segment updates waiting for their document's lock, per document (see #round). */
  readonly #queues = new Map<string, Queued[]>();
  readonly #sweep: NodeJS.Timeout;
  /** Updates committed in runs of independent updates (tests). */
  readonly stats = { batchedUpdates: 0 };

  constructor(options: { documents: LoadedDocuments; committer: Committer; log: Logger; segmentSize: number; hooks: WritePathHooks }) {
    this.#documents = options.documents;
    this.#committer = options.committer;
    this.#log = options.log;
    this.#segmentSize = options.segmentSize;
    this.#hooks = options.hooks;
    this.#sweep = setInterval(() => this.#expireHeld(), 5_000);
    this.#sweep.unref();
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  /**
   * Judges, commits and applies a client's update. Resolves once it is applied (acknowledged),
   * found to change nothing, or held for what it builds on; throws Refused otherwise.
   */
  async submit(submission: Submission): Promise<'applied' | 'empty' | 'held'> {
    // The wait for the document's lock is a span of its own (it ends when the work starts).
    const waiting = startSpan('outpost.lock', { 'outpost.document': submission.name });
    if (submission.docName.kind !== 'segment' || submission.frame !== 'update') {
      try {
        return await this.#locks.with(submission.name, LOCK_DEADLINE_MS, () => {
          waiting?.end();
          return this.#alone(submission);
        });
      } catch (error) {
        if (waiting?.isRecording()) waiting.end();
        throw error;
      }
    }
    return new Promise((resolve, reject) => {
      const item: Queued = {
        submission,
        resolve,
        reject: (error) => {
          if (waiting?.isRecording()) waiting.end();
          reject(error);
        },
        started: () => {
          if (waiting?.isRecording()) waiting.end();
        },
      };
      const queue = this.#queues.get(submission.name);
      if (queue) {
        queue.push(item);
        return;
      }
      this.#queues.set(submission.name, [item]);
      this.#runQueue(submission.name);
    });
  }

  /** Judges, commits and applies one update on its own, holding the document's lock. */
  async #alone(submission: Submission): Promise<'applied' | 'empty' | 'held'> {
    const result = await this.#judgeAndWrite(submission, true);
    if (result === 'applied') await this.#releaseHeld(submission.doc);
    // Held: it may be what another held update of the same device was waiting for, and wait for it in turn.
    if (result === 'held' && (await this.#releaseTogether(submission.doc))) await this.#releaseHeld(submission.doc);
    // An update that changes nothing is answered too: the provider counts down every update it sent.
    if (result === 'empty') this.#answer(submission);
    return result;
  }

  /**
   * Works off a segment's queue, one round per turn of its lock (so notices and server writes
   * waiting for the lock get their turn between rounds), until the queue is empty.
   */
  #runQueue(name: string): void {
    this.#locks.with(name, LOCK_DEADLINE_MS, () => this.#round(name)).then(
      () => {
        if ((this.#queues.get(name)?.length ?? 0) > 0) this.#runQueue(name);
        else this.#queues.delete(name);
      },
      (error: unknown) => {
        // The lock did not come within its deadline: everything queued is refused as "try again".
        const queue = this.#queues.get(name) ?? [];
        this.#queues.delete(name);
        for (const item of queue) item.reject(error);
      },
    );
  }

  /**
   * One round: the updates at the head of the queue that are independent of each other (see
   * batch.ts) are committed together, one log entry each in one transaction; anything else is
   * judged on its own, as the first in the queue.
   */
  async #round(name: string): Promise<void> {
    const queue = this.#queues.get(name) as Queued[];
    const first = queue[0] as Queued;
    const doc = first.submission.doc;
    if (queue.length > 1) {
      await this.#documents.catchUp(name, doc);
      const batch = independentRun(doc, queue.map((item) => item.submission));
      if (batch.length > 1) {
        const members = queue.splice(0, batch.length).map((item, index) => {
          item.started();
          return { ...item, ...(batch[index] as BatchMember) };
        });
        queue.unshift(...(await this.#writeBatch(name, doc, members)));
        return;
      }
    }
    queue.shift();
    first.started();
    await this.#alone(first.submission).then(first.resolve, first.reject);
  }

  /**
   * Commits independent updates to one segment as a chain of log entries (each based on the one
   * before, numbered after the one before), in one commit batch. Returns what must be judged again:
   * the updates after one that was refused or found stale, in order.
   */
  async #writeBatch(name: string, doc: Document, members: (Queued & BatchMember)[]): Promise<Queued[]> {
    const { conversationId, segment } = members[0]?.submission.docName as Extract<DocName, { kind: 'segment' }>;
    this.stats.batchedUpdates += members.length;
    const admitted: (Queued & BatchMember)[] = [];
    for (const member of members) {
      try {
        await this.#mayPost(conversationId, member.submission.role, member.changes.messages.length);
        await this.#admit(member.submission, member.changes.messages.length);
        admitted.push(member);
      } catch (error) {
        member.reject(error);
      }
    }
    let base = this.#documents.version(doc);
    let clock = Y.getState(doc.store, SEGMENT_SERVER_CLIENT);
    const requests = admitted.map(({ submission, analysis, changes }): CommitRequest => {
      const request: CommitRequest = {
        doc: name,
        base: base++,
        update: unknownPart(doc, submission.update, analysis),
        clients: { userId: submission.sender.userId, ids: [...analysis.clients] },
        messages: { conversationId, segmentSize: this.#segmentSize, list: changes.messages.map(({ id, entry }) => newMessage(id, segment, entry)) },
        numbering: { client: SEGMENT_SERVER_CLIENT, clock, known: [], deletes: [] },
      };
      clock += changes.messages.length;
      return request;
    });
    // One chain: handed in one after another, in this turn (each commit call enqueues at once).
    const chain = {};
    const results = await Promise.allSettled(requests.map((request) => this.#commit(request, chain)));
    const again: Queued[] = [];
    let applied = false;
    let stale = false;
    results.forEach((result, index) => {
      const member = admitted[index] as Queued & BatchMember;
      if (again.length > 0) again.push(member);
      else if (result.status === 'rejected') member.reject(result.reason);
      else if (result.value.outcome.ok) {
        const { outcome, entry } = result.value;
        this.#applied(name, doc, entry as Uint8Array, outcome.version);
        this.#segmentDone(member.submission, member.changes, outcome);
        member.resolve('applied');
        applied = true;
      } else if (result.value.outcome.reason === 'stale') {
        stale = true;
        const rounds = (this.#staleRounds.get(member.submission) ?? 0) + 1;
        this.#staleRounds.set(member.submission, rounds);
        if (rounds > STALE_RETRIES) member.reject(busyElsewhere());
        again.push(...admitted.slice(rounds > STALE_RETRIES ? index + 1 : index));
      } else {
        member.reject(refusalOf(result.value.outcome, 'segment'));
        // Those after it were based on its entry: judged again.
        again.push(...admitted.slice(index + 1));
      }
    });
    if (applied) await this.#releaseHeld(doc);
    // The log moved on and no notice said so (lost with a node, or sent while this copy was
    // loading): only the log can tell what the copy lacks. Without asking it, the same batch
    // would be found stale again, round after round, for ever.
    if (stale) await this.#documents.catchUp(name, doc, true);
    return again.filter((member, index, all) => all.indexOf(member) === index).map(({ submission, resolve, reject, started }) => ({ submission, resolve, reject, started }));
  }

  /**
   * Commits and applies a server write to a loaded document (sequence numbers, server-owned
   * documents). `plan` runs against the caught-up copy; null means nothing to write.
   */
  async serverWrite(name: string, doc: Y.Doc, plan: (doc: Y.Doc) => ServerPlan | null): Promise<Extract<CommitOutcome, { ok: true }> | null> {
    return this.#locks.with(name, LOCK_DEADLINE_MS, async () => {
      await this.#documents.catchUp(name, doc);
      for (let attempt = 0; ; attempt++) {
        const current = plan(doc);
        if (!current) return null;
        const { outcome, entry } = await this.#commit({
          doc: name,
          base: this.#documents.version(doc),
          update: encodeServerWrite(doc, current.client, current.ops, current.deletes),
          ...(current.messages ? { messages: current.messages } : {}),
          ...(current.messages || current.knownSeq
            ? {
                numbering: {
                  client: current.client,
                  // After the items the ops write (one per value set).
                  clock: Y.getState(doc.store, current.client) + current.ops.filter((op) => op.value !== undefined).length,
                  known: current.knownSeq ?? [],
                  deletes: [],
                },
              }
            : {}),
        });
        if (outcome.ok) {
          this.#applied(name, doc, entry as Uint8Array, outcome.version);
          return outcome;
        }
        if (outcome.reason !== 'stale' || attempt >= STALE_RETRIES) throw new Error(`a server write to ${name} was refused: ${outcome.reason}`);
        await this.#documents.catchUp(name, doc, true);
      }
    });
  }

  /**
   * Another node appended to a document this node holds: apply that entry when it follows
   * directly, else catch up from the log; then judge what waited for it.
   */
  async received(name: string, doc: Document, notice: { version: number; update: Uint8Array | null }): Promise<void> {
    this.#documents.announce(name, notice.version);
    await this.#locks.with(name, LOCK_DEADLINE_MS, async () => {
      if (notice.update && notice.version === this.#documents.version(doc) + 1) this.#documents.applyCommitted(name, doc, notice.update, notice.version);
      else await this.#documents.catchUp(name, doc);
      await this.#releaseHeld(doc);
    });
  }

  /** Asks the log for what this copy may have missed (notices were lost), then judges what waited. */
  async catchUp(name: string, doc: Document): Promise<void> {
    await this.#locks.with(name, LOCK_DEADLINE_MS, async () => {
      await this.#documents.catchUp(name, doc, true);
      await this.#releaseHeld(doc);
    });
  }

  /** Brings a copy up to what notices announced before a client reads it (sync step 1). */
  async current(name: string, doc: Document): Promise<void> {
    if (!this.#documents.behind(name, doc)) return;
    await this.#locks.with(name, LOCK_DEADLINE_MS, () => this.#documents.catchUp(name, doc));
  }

  /** Forgets what a closed connection had waiting. */
  connectionClosed(context: unknown): void {
    this.#held.dropWhere((held) => held.sender.submission.connection.context === context);
  }

  /** Runs `work` under a document's lock (loading and reconciling a document). */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.#locks.with(name, LOCK_DEADLINE_MS, work);
  }

  async #judgeAndWrite(submission: Submission, fresh: boolean): Promise<'applied' | 'empty' | 'held'> {
    const { name, doc } = submission;
    await traced('outpost.catchUp', { 'outpost.document': name }, () => this.#documents.catchUp(name, doc));
    // Whatever is decided against this node's copy that is not an acceptance (held, refused) is
    // decided again after asking the log once: another node may have written what it lacks.
    let askedLog = false;
    const askLog = async (): Promise<boolean> => {
      if (askedLog) return false;
      askedLog = true;
      const before = this.#documents.version(doc);
      await this.#documents.catchUp(name, doc, true);
      return this.#documents.version(doc) !== before;
    };
    let trimmed = false;
    for (let attempt = 0; ; attempt++) {
      let analysis: Analysis;
      try {
        analysis = tracedSync('outpost.analyze', { 'outpost.update_bytes': submission.update.byteLength }, () => analyzeUpdate(doc, submission.update));
      } catch (error) {
        if (trimmed || !refusedForServerStructs(error)) throw error;
        // A device that synced through another node answers this copy's state vector, behind
        // the log, with everything the copy lacks: that node's entries, the server's own items
        // among them. What the log holds is not new and not the device's to send: only the
        // rest is judged (and logged). A server item the log does not hold is still refused.
        await askLog();
        submission.update = Y.diffUpdate(submission.update, Y.encodeStateVector(doc));
        trimmed = true;
        continue;
      }
      if (analysis.empty) return 'empty';
      if (!analysis.integrable) {
        if (await askLog()) continue;
        if (fresh) this.#held.hold(doc, { update: submission.update, sender: { submission }, connection: submission.connection, at: Date.now() });
        return 'held';
      }
      let outcome: 'applied' | 'stale' | 'waiting';
      try {
        outcome = submission.docName.kind === 'segment' ? await this.#writeSegment(submission, analysis) : await this.#writeUser(submission, analysis);
      } catch (error) {
        if (error instanceof Refused && error.code === 'ruleBroken' && (await askLog())) continue;
        throw error;
      }
      if (outcome === 'waiting') {
        if (await askLog()) continue;
        if (fresh) this.#held.hold(doc, { update: submission.update, sender: { submission }, connection: submission.connection, at: Date.now() });
        return 'held';
      }
      if (outcome !== 'stale') return 'applied';
      if (attempt >= STALE_RETRIES) throw busyElsewhere();
      askedLog = true;
      await this.#documents.catchUp(name, doc, true);
    }
  }

  async #writeSegment(submission: Submission, analysis: Analysis): Promise<'applied' | 'stale' | 'waiting'> {
    const { name, doc, update, sender } = submission;
    const { conversationId, segment } = submission.docName as Extract<DocName, { kind: 'segment' }>;
    if (submission.role === null) throw new Refused('forbidden', 'accessLost', 'not a member of this conversation');
    const role = submission.role;
    const changes = tracedSync('outpost.validate', {}, () => validateSegment(doc, analysis, { ...sender, role }));
    // A message this update refers to and the segment does not hold: numbered in another
    // segment, it is a forgery; else it may still be on its way (written offline), so wait.
    // One found elsewhere is enough to refuse, and waiting lands nothing: a few lookups bound
    // the cost of an update that names thousands of messages.
    for (const id of [...changes.waitingFor].slice(0, WAITING_LOOKUPS)) {
      const numbered = await this.#hooks.numberedIn(conversationId, id);
      if (numbered !== null && numbered !== segment) throw ruleBroken('edits, deletions and reactions go to the segment that holds the message');
    }
    if (changes.waitingFor.size > 0) return 'waiting';
    await this.#mayPost(conversationId, role, changes.messages.length);
    await this.#admit(submission, changes.messages.length);
    const neutralize: DeleteRange[] = changes.neutralize.map((id) => ({ client: id.client, clock: id.clock, len: 1 }));
    const { outcome, entry } = await this.#commit({
      doc: name,
      base: this.#documents.version(doc),
      update: unknownPart(doc, update, analysis),
      clients: { userId: sender.userId, ids: [...analysis.clients] },
      messages: {
        conversationId,
        segmentSize: this.#segmentSize,
        list: changes.messages.map(({ id, entry }) => newMessage(id, segment, entry)),
      },
      numbering: {
        client: SEGMENT_SERVER_CLIENT,
        clock: Y.getState(doc.store, SEGMENT_SERVER_CLIENT),
        known: [],
        deletes: neutralize,
        overwrites: changes.tombstones.map(({ id, origin, value }) => ({ root: SegmentRoots.messages, key: id, value, origin })),
      },
    });
    if (!outcome.ok) {
      if (outcome.reason === 'stale') return 'stale';
      throw refusalOf(outcome, 'segment');
    }
    this.#applied(name, doc, entry as Uint8Array, outcome.version);
    this.#segmentDone(submission, changes, outcome);
    return 'applied';
  }

  async #writeUser(submission: Submission, analysis: Analysis): Promise<'applied' | 'stale'> {
    const { name, doc, update, sender } = submission;
    const changes = tracedSync('outpost.validate', {}, () => validateUser(analysis, sender));
    const logged = unknownPart(doc, update, analysis);
    const { outcome } = await this.#commit({
      doc: name,
      base: this.#documents.version(doc),
      update: logged,
      clients: { userId: sender.userId, ids: [...analysis.clients] },
      reads: changes.reads.map((read) => ({ ...read, userId: sender.userId })),
    });
    if (!outcome.ok) {
      if (outcome.reason === 'stale') return 'stale';
      throw refusalOf(outcome, 'user');
    }
    this.#applied(name, doc, logged, outcome.version);
    this.#answer(submission);
    if (changes.reads.length > 0) tracedSync('outpost.fanOut', {}, () => this.#hooks.readsApplied(sender.userId, changes.reads));
    return 'applied';
  }

  /** Refuses new messages from a member of a group locked to admins-only posting. */
  async #mayPost(conversationId: ConversationId, role: Role | null, messages: number): Promise<void> {
    if (messages === 0 || role === null) return;
    if (!(await this.#hooks.mayPost(conversationId, role))) throw ruleBroken(POSTING_LOCKED);
  }

  /** A segment update was committed and applied: count its messages, acknowledge it, fan out. */
  #segmentDone(submission: Submission, changes: SegmentChanges, outcome: Extract<CommitOutcome, { ok: true }>): void {
    const { conversationId, segment } = submission.docName as Extract<DocName, { kind: 'segment' }>;
    if (changes.messages.length > 0) {
      metrics.messagesNumbered.inc(changes.messages.length);
      if (submission.receivedAt !== undefined) metrics.numberingSeconds.observe(secondsSince(submission.receivedAt));
    }
    this.#answer(submission);
    tracedSync('outpost.fanOut', {}, () => this.#hooks.segmentApplied(conversationId, segment, submission.doc, changes, outcome));
  }

  /**
   * Charges the sender's message allowance for an update's new messages, once: an update judged
   * again (the log moved on under it, another node won the race) is not charged again.
   */
  async #admit(submission: Submission, messages: number): Promise<void> {
    const due = messages - (this.#charged.get(submission) ?? 0);
    if (due <= 0) return;
    await this.#hooks.admitMessages(submission.sender.userId, due);
    this.#charged.set(submission, messages);
  }

  #applied(name: string, doc: Y.Doc, entry: Uint8Array, version: number): void {
    // Applying broadcasts to this node's clients; `committed` tells the other nodes.
    tracedSync('outpost.apply', { 'outpost.version': version }, () => {
      this.#documents.applyCommitted(name, doc, entry, version);
      this.#hooks.committed(name, version, entry);
    });
  }

  /** A storage fault becomes a refusal to retry; the update is not applied. */
  /** `chain`: see Committer.commit (the write path's batches are chains). */
  async #commit(request: CommitRequest, chain: object | null = null): Promise<CommitResult> {
    try {
      return await traced('outpost.commit', { 'outpost.messages': request.messages?.list.length ?? 0 }, () => this.#committer.commit(request, chain));
    } catch (error) {
      this.#log.error('a commit failed', { document: request.doc, error });
      throw retryLater('internal', 'the server could not store this change; it will be sent again', 2_000);
    }
  }

  /**
   * Acknowledges an update frame once it is applied or found to change nothing (Hocuspocus
   * acknowledges a sync step 2 itself, unless it was held: then it is acknowledged here once released).
   */
  #answer(submission: Submission, released = false): void {
    if (submission.frame === 'update' || released) submission.connection.send(syncStatusFrame(submission.connection.messageAddress));
  }

  /** Judges what waited in `doc` again, until nothing more can integrate. */
  async #releaseHeld(doc: Document): Promise<void> {
    for (let progress = true; progress && this.#held.has(doc); ) {
      progress = false;
      for (const held of this.#held.take(doc)) {
        const submission = held.sender.submission;
        try {
          const result = await this.#judgeAndWrite(submission, false);
          if (result === 'held') {
            this.#held.hold(doc, held);
            continue;
          }
          progress = progress || result === 'applied';
          if (result === 'applied') metrics.updatesAccepted.inc({ doc: submission.docName.kind });
          if (result === 'empty' || submission.frame === 'step2') this.#answer(submission, true);
        } catch (error) {
          const refusal = error instanceof Refused ? error : retryLater('internal', 'a waiting change could not be stored', 1_000);
          metrics.updatesRefused.inc({ kind: refusal.kind, code: refusal.code });
          this.#log.warn('a held update was refused', {
            connectionId: (submission.connection.context as { socket?: { id: string } } | undefined)?.socket?.id,
            userId: submission.sender.userId,
            document: submission.name,
            kind: refusal.kind,
            code: refusal.code,
            reason: refusal.message,
          });
          submission.connection.close({ code: 4000, reason: refusal.reason });
        }
      }
      if (!progress && this.#held.has(doc)) progress = await this.#releaseTogether(doc);
    }
  }

  /**
   * Judges the updates one device has waiting in `doc` together, as one update: two tabs of a
   * device relay their changes to each other, and a provider that batches its updates can send
   * one that deletes what the other tab wrote on top of this tab's earlier writes, while the
   * other tab's update builds on those writes and deletes some of them (seed 15645). Each waits
   * for the other; together they integrate. Only a device's own updates are joined (its user's
   * rights, its read positions), so a join accepts nothing the device could not have sent as one
   * update. Answers every frame of a join that is applied; leaves them waiting otherwise (each is
   * still judged on its own, and refused on its own connection). True when one was applied.
   */
  async #releaseTogether(doc: Document): Promise<boolean> {
    const held = this.#held.take(doc);
    const byDevice = new Map<string, HeldUpdate<Held>[]>();
    for (const h of held) {
      const { userId, deviceId } = h.sender.submission.sender;
      const key = `${userId}/${deviceId}`;
      byDevice.set(key, [...(byDevice.get(key) ?? []), h]);
    }
    let applied = false;
    for (const group of byDevice.values()) {
      const first = group[0] as HeldUpdate<Held>;
      const bytes = group.reduce((sum, h) => sum + h.sender.submission.update.byteLength, 0);
      if (group.length < 2 || group.length > JOINED_AT_MOST.updates || bytes > JOINED_AT_MOST.bytes) {
        for (const h of group) this.#held.hold(doc, h);
        continue;
      }
      let result: 'applied' | 'empty' | 'held' | 'refused';
      try {
        // Answered below, each frame on its own connection: the join itself answers none.
        const update = Y.mergeUpdates(group.map((h) => h.sender.submission.update));
        result = await this.#judgeAndWrite({ ...first.sender.submission, update, frame: 'step2' }, false);
      } catch {
        result = 'refused';
      }
      if (result === 'applied' || result === 'empty') {
        applied = applied || result === 'applied';
        for (const h of group) {
          if (result === 'applied') metrics.updatesAccepted.inc({ doc: h.sender.submission.docName.kind });
          this.#answer(h.sender.submission, true);
        }
      } else {
        for (const h of group) this.#held.hold(doc, h);
      }
    }
    return applied;
  }

  #expireHeld(): void {
    for (const held of this.#held.expired(Date.now())) {
      const { submission } = held.sender;
      const refusal = retryLater('internal', 'a change waited too long for the changes it builds on; the document will be synced again', 0);
      metrics.updatesRefused.inc({ kind: refusal.kind, code: refusal.code });
      submission.connection.close({ code: 4000, reason: refusal.reason });
    }
  }
}

/**
 * The part of a client's update the document does not hold yet. Yjs skips known structs when it
 * applies an update, but the log stores bytes: a device that re-sends an old update (an outbox
 * replayed after a lost acknowledgement, a replica that missed a deletion) would otherwise put a
 * deleted message's text back into the log. Only what is new is logged and broadcast. An update
 * with nothing known (the usual case) is logged as it came.
 */
function unknownPart(doc: Y.Doc, update: Uint8Array, analysis: Analysis): Uint8Array {
  return analysis.repeats ? Y.diffUpdate(update, Y.encodeStateVector(doc)) : update;
}

/** A new message as the commit numbers it. */
function newMessage(id: MessageId, segment: number, entry: MessageEntry): NonNullable<CommitRequest['messages']>['list'][number] {
  return {
    id,
    segment,
    author: entry.author,
    createdAt: entry.createdAt,
    body: entry.body,
    ...(entry.replyTo ? { replyTo: entry.replyTo } : {}),
    ...(entry.attachments ? { attachments: entry.attachments } : {}),
  };
}

/** Other nodes kept appending first: the client sends the change again a little later. */
function busyElsewhere(): Refused {
  return retryLater('internal', 'this document is busy on other servers; the change will be sent again', 500);
}

/** A refused commit, as the client is told. */
function refusalOf(outcome: Exclude<CommitOutcome, { ok: true }>, kind: 'segment' | 'user'): Refused {
  switch (outcome.reason) {
    case 'duplicateMessage':
      return ruleBroken('a message id is used once in a conversation');
    case 'beyondHead':
      return ruleBroken(`new messages go to segment ${outcome.head + 1} at most`);
    case 'readBeyondEnd':
      return ruleBroken('a read position cannot be past the last message');
    case 'noConversation':
      // A segment of a conversation that is gone; a read position for one never existed.
      return kind === 'segment' ? new Refused('forbidden', 'accessLost', 'no such conversation') : ruleBroken('a read position names no conversation');
    case 'badAttachment':
      return ruleBroken('a message carries only files its author uploaded to this conversation, as they were stored');
    case 'clientTaken':
      return ruleBroken('the update reuses another user’s Yjs client id');
    case 'tooManyClients':
      return new Refused('rateLimited', 'retry', `at most ${outcome.limit} new Yjs client ids per day in one document`, 3_600_000);
    case 'stale':
      return retryLater('internal', 'the document moved on; the change will be sent again', 200);
  }
}
