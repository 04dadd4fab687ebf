// The Hocuspocus extension that makes a generic Yjs server into Outpost's: who may open which
// document, the write path (validate → log → apply → number), and server-owned documents
// materialized from storage.
import type {
  Extension,
  Hocuspocus,
  afterHandleMessagePayload,
  afterLoadDocumentPayload,
  beforeHandleAwarenessPayload,
  beforeHandleMessagePayload,
  onAwarenessUpdatePayload,
  onAuthenticatePayload,
} from '@hocuspocus/server';
import * as Y from 'yjs';
import {
  CloseCodes,
  OutpostError,
  closeReason,
  parseDocName,
  unreachable,
  type ConversationId,
  type DocName,
  type ErrorKind,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { TokenSigner } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import { DocLocks } from './docLock.ts';
import { decodeFrame } from './frames.ts';
import { materializeInbox, materializeOrder, materializeServer } from './materialize.ts';
import { PresenceRelay } from './presence.ts';
import { Sequencer } from './sequencer.ts';
import { InvalidUpdate, isNoOpUpdate, validateSegmentUpdate, validateUserUpdate, type Sender } from './validate.ts';
import type { DocumentStore } from './documentStore.ts';

/** What a connection carries after authentication. */
export interface ConnectionContext extends Sender {
  doc: DocName;
}

type Pending =
  | { kind: 'segment'; conversationId: ConversationId; segment: number; changes: NonNullable<ReturnType<typeof validateSegmentUpdate>> }
  | { kind: 'user'; changes: NonNullable<ReturnType<typeof validateUserUpdate>> }
  | null;

const closeCodeFor: Record<ErrorKind, number> = {
  unauthorized: CloseCodes.unauthorized,
  forbidden: CloseCodes.forbidden,
  notFound: CloseCodes.forbidden,
  invalidInput: CloseCodes.invalidUpdate,
  conflict: CloseCodes.invalidUpdate,
  rateLimited: CloseCodes.rateLimited,
  tooLarge: CloseCodes.tooLarge,
  internal: CloseCodes.internal,
};

/** An error Hocuspocus turns into a close of that document's connection with our code. */
function refusal(error: OutpostError): Error & { code: number; reason: string } {
  const reason = closeReason(error.kind, error.message);
  return Object.assign(new Error(reason), { code: closeCodeFor[error.kind], reason });
}

export class SyncEngine implements Extension {
  extensionName = 'OutpostSyncEngine';
  // Runs before the document store's hooks: access first, then persistence.
  priority = 200;
  readonly sequencer: Sequencer;
  readonly #presence: PresenceRelay;
  #instance: Hocuspocus | undefined;
  readonly #storage: Storage;
  readonly #signer: TokenSigner;
  readonly #store: DocumentStore;
  readonly #log: Logger;
  readonly #segmentSize: number;
  readonly #locks = new DocLocks();
  readonly #pending = new WeakMap<object, Pending>();
  /** Work started by hooks and not finished yet; `drain()` waits for it before shutdown. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing = false;

  constructor(options: { storage: Storage; signer: TokenSigner; store: DocumentStore; segmentSize: number; log: Logger }) {
    this.#storage = options.storage;
    this.#signer = options.signer;
    this.#store = options.store;
    this.#log = options.log;
    this.#segmentSize = options.segmentSize;
    this.#presence = new PresenceRelay(options.storage, () => this.#instance?.documents ?? new Map());
    this.sequencer = new Sequencer(options.storage, { get: (name) => this.#instance?.documents.get(name) }, options.segmentSize, options.log);
  }

  attach(instance: Hocuspocus): void {
    this.#instance = instance;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Stops background work that shutdown would cut short, then waits for hook work to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.drain();
  }

  /** Resolves when no hook work is running (new work may start meanwhile; loops until quiet). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  // ── access ──

  onAuthenticate(payload: onAuthenticatePayload): Promise<ConnectionContext> {
    return this.#track(this.#authenticate(payload));
  }

  async #authenticate({ token, documentName, connectionConfig }: onAuthenticatePayload): Promise<ConnectionContext> {
    const doc = parseDocName(documentName);
    if (!doc) throw new Error(closeReason('invalidInput', 'not a valid document name'));
    let sender: Sender;
    try {
      sender = await this.#signer.verify(token);
    } catch (error) {
      if (error instanceof OutpostError) throw new Error(closeReason(error.kind, error.message), { cause: error });
      throw error;
    }
    await this.#checkAccess(sender.userId, doc);
    connectionConfig.readOnly = doc.kind !== 'segment' && doc.kind !== 'user';
    return { ...sender, doc };
  }

  async #checkAccess(userId: UserId, doc: DocName): Promise<void> {
    switch (doc.kind) {
      case 'segment':
      case 'order':
      case 'server':
        if (!(await this.#storage.getMemberRole(doc.conversationId, userId))) {
          throw new Error(closeReason('forbidden', 'not a member of this conversation'));
        }
        return;
      case 'user':
      case 'inbox':
      case 'presence':
        if (doc.userId !== userId) throw new Error(closeReason('forbidden', 'this document belongs to another user'));
        return;
      default:
        unreachable(doc);
    }
  }

  // ── server-owned documents are views of storage ──

  afterLoadDocument(payload: afterLoadDocumentPayload): Promise<void> {
    return this.#track(this.#afterLoadDocument(payload));
  }

  async #afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const doc = parseDocName(documentName);
    if (!doc) return;
    switch (doc.kind) {
      case 'order':
        return materializeOrder(this.#storage, document, doc.conversationId, doc.segment);
      case 'server':
        return materializeServer(this.#storage, document, doc.conversationId, this.#segmentSize);
      case 'inbox':
        return materializeInbox(this.#storage, document, doc.userId);
      case 'segment':
        return this.sequencer.numberUnnumbered(doc.conversationId, doc.segment, document);
      case 'presence':
        return this.#presence.onPresenceOpened(doc.userId);
      case 'user':
        return;
      default:
        unreachable(doc);
    }
  }

  // ── the write path: validate → log (durable) → apply → number ──

  beforeHandleMessage(payload: beforeHandleMessagePayload<ConnectionContext>): Promise<void> {
    return this.#track(this.#beforeHandleMessage(payload));
  }

  async #beforeHandleMessage({ connection, update: raw, document, context }: beforeHandleMessagePayload<ConnectionContext>): Promise<void> {
    const frame = (() => {
      try {
        return decodeFrame(raw);
      } catch (error) {
        throw refusal(error as OutpostError);
      }
    })();
    if (frame.kind !== 'update') return;
    const role = context.doc.kind === 'segment' ? await this.#roleOf(context.doc.conversationId, context.userId) : null;
    await this.#locks.acquire(document.name);
    try {
      if (context.doc.kind === 'segment' && role === null) throw new OutpostError('forbidden', 'not a member of this conversation');
      const pending = this.#validate(document, frame.update, context, role ?? 'member');
      if (pending !== null) await this.#store.logged(document.name, frame.update);
      this.#pending.set(connection, pending);
    } catch (error) {
      this.#locks.release(document.name);
      if (error instanceof OutpostError) {
        this.#log.warn('update refused', { userId: context.userId, document: document.name, kind: error.kind, reason: error.message });
        throw refusal(error);
      }
      throw error;
    }
  }

  #validate(document: Y.Doc, update: Uint8Array, context: ConnectionContext, role: Role): Pending {
    const doc = context.doc;
    switch (doc.kind) {
      case 'segment': {
        const changes = validateSegmentUpdate(document, update, {
          sender: context,
          senderRole: role,
          authorOf: () => undefined,
        });
        return changes && { kind: 'segment', conversationId: doc.conversationId, segment: doc.segment, changes };
      }
      case 'user': {
        const changes = validateUserUpdate(document, update, context);
        return changes && { kind: 'user', changes };
      }
      case 'order':
      case 'server':
      case 'inbox':
      case 'presence':
        if (isNoOpUpdate(document, update)) return null;
        throw new InvalidUpdate('this document is written by the server only');
      default:
        return unreachable(doc);
    }
  }

  /** Member roles, cached per conversation and user; cleared when membership changes. */
  readonly #roles = new Map<string, Role | null>();

  async #roleOf(conversationId: ConversationId, userId: UserId): Promise<Role | null> {
    const key = `${conversationId}/${userId}`;
    if (!this.#roles.has(key)) this.#roles.set(key, await this.#storage.getMemberRole(conversationId, userId));
    return this.#roles.get(key) ?? null;
  }

  afterHandleMessage(payload: afterHandleMessagePayload<ConnectionContext>): Promise<void> {
    return this.#track(this.#afterHandleMessage(payload));
  }

  async #afterHandleMessage({ connection, document }: afterHandleMessagePayload<ConnectionContext>): Promise<void> {
    if (!this.#pending.has(connection)) return;
    const pending = this.#pending.get(connection) ?? null;
    this.#pending.delete(connection);
    this.#locks.release(document.name);
    if (!pending) return;
    try {
      if (pending.kind === 'segment') {
        await this.sequencer.onSegmentChanges(pending.conversationId, pending.segment, document, pending.changes);
      } else {
        await this.sequencer.onReads(connection.context.userId, pending.changes);
      }
    } catch (error) {
      // The update is logged and applied; numbering is redone when the segment next loads.
      this.#log.error('post-apply processing failed', { document: document.name, error });
    }
  }

  // ── awareness carries the identity from the token ──

  async beforeHandleAwareness({ states, context }: beforeHandleAwarenessPayload<ConnectionContext>): Promise<void> {
    if (!context) return;
    for (const state of states.values()) state.user = { id: context.userId, deviceId: context.deviceId };
  }

  /** Hocuspocus does not await or catch this hook: failures are logged here. */
  onAwarenessUpdate(payload: onAwarenessUpdatePayload): Promise<void> {
    if (this.#closing) return Promise.resolve();
    return this.#track(
      this.#presence.onAwarenessUpdate(payload).catch((error: unknown) => {
        this.#log.warn('presence relay failed', { document: payload.documentName, error });
      }),
    );
  }

  // ── changes made over HTTP ──

  /** Reflects membership changes in open documents and cuts removed members off at once. */
  async membershipChanged(conversationId: ConversationId, removed: readonly UserId[] = []): Promise<void> {
    const instance = this.#instance;
    const server = instance?.documents.get(`conv:${conversationId}:server`);
    if (server) await materializeServer(this.#storage, server, conversationId, this.#segmentSize);
    for (const key of [...this.#roles.keys()]) if (key.startsWith(`${conversationId}/`)) this.#roles.delete(key);
    this.#presence.forget();
    await this.sequencer.refreshConversation(conversationId, removed);
    if (!instance || removed.length === 0) return;
    const gone = new Set<string>(removed);
    for (const document of instance.documents.values()) {
      if (!document.name.startsWith(`conv:${conversationId}:`)) continue;
      for (const connection of document.getConnections()) {
        const context = connection.context as ConnectionContext;
        if (gone.has(context.userId)) {
          connection.close({ code: CloseCodes.forbidden, reason: closeReason('forbidden', 'removed from the conversation') });
        }
      }
    }
  }
}
