// The Hocuspocus extension that makes a generic Yjs server into Outpost's: who may open which
// document (access.ts), the write path (validate → log → apply → number), server-owned
// documents materialized from storage, and presence relayed between contacts.
import type {
  Extension,
  Hocuspocus,
  afterHandleMessagePayload,
  afterLoadDocumentPayload,
  beforeHandleAwarenessPayload,
  beforeHandleMessagePayload,
  onAuthenticatePayload,
  onAwarenessUpdatePayload,
  onDisconnectPayload,
} from '@hocuspocus/server';
import * as Y from 'yjs';
import {
  CloseCodes,
  OutpostError,
  PROTOCOL_PARAM,
  PROTOCOL_VERSION,
  closeReason,
  isUuid,
  parseDocName,
  unreachable,
  type ConversationId,
  type DeviceId,
  type ErrorKind,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { TokenSigner } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import { RateLimiter, RateLimits } from '../rateLimiter.ts';
import { AccessControl, RECHECK_MS, type ConnectionContext } from './access.ts';
import { DocLocks } from './docLock.ts';
import type { DocumentStore } from './documentStore.ts';
import { decodeFrame } from './frames.ts';
import { materializeInbox, materializeOrder, materializeServer } from './materialize.ts';
import { PresenceRelay } from './presence.ts';
import { Sequencer } from './sequencer.ts';
import {
  InvalidUpdate,
  isNoOpUpdate,
  validateSegmentUpdate,
  validateUserUpdate,
  type SegmentChanges,
  type UserDocChanges,
  type Validated,
} from './validate.ts';

export type { ConnectionContext } from './access.ts';

type Pending =
  | { kind: 'segment'; conversationId: ConversationId; segment: number; changes: SegmentChanges }
  | { kind: 'user'; changes: UserDocChanges }
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
  const retry = typeof error.details?.retryAfterMs === 'number' ? ` (retryAfterMs=${error.details.retryAfterMs})` : '';
  const reason = closeReason(error.kind, `${error.message}${retry}`);
  return Object.assign(new Error(reason), { code: closeCodeFor[error.kind], reason });
}

/** Awareness fields a client may set; everything else is dropped. */
const AWARENESS_STATE_BYTES = 1_024;

export class SyncEngine implements Extension {
  extensionName = 'OutpostSyncEngine';
  // Runs before the document store's hooks: access first, then persistence.
  priority = 200;
  readonly sequencer: Sequencer;
  readonly access: AccessControl;
  #instance: Hocuspocus | undefined;
  readonly #storage: Storage;
  readonly #store: DocumentStore;
  readonly #log: Logger;
  readonly #segmentSize: number;
  readonly #presence: PresenceRelay;
  readonly #locks = new DocLocks();
  readonly #pending = new WeakMap<object, Pending>();
  /** Per loaded document: Yjs client ids known to belong to a user (saves a storage round trip). */
  readonly #claims = new WeakMap<Y.Doc, Map<number, UserId>>();
  readonly #updates = new RateLimiter('updates', RateLimits.updatesPerUser);
  readonly #messages = new RateLimiter('messages', RateLimits.messagesPerUser);
  /** Work started by hooks and not finished yet; `drain()` waits for it before shutdown. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing = false;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: { storage: Storage; signer: TokenSigner; store: DocumentStore; segmentSize: number; log: Logger }) {
    this.#storage = options.storage;
    this.#store = options.store;
    this.#log = options.log;
    this.#segmentSize = options.segmentSize;
    this.access = new AccessControl(options.storage, options.signer);
    this.#presence = new PresenceRelay(options.storage, () => this.#instance?.documents ?? new Map());
    this.sequencer = new Sequencer(options.storage, { get: (name) => this.#instance?.documents.get(name) }, options.segmentSize, options.log);
    this.#sweep = setInterval(() => void this.#track(this.#recheckConnections()), RECHECK_MS);
    this.#sweep.unref();
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
    clearInterval(this.#sweep);
    await this.drain();
  }

  /** Resolves when no hook work is running (new work may start meanwhile; loops until quiet). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  // ── access ──

  async onAuthenticate({ token, documentName, connectionConfig, socketId, requestParameters }: onAuthenticatePayload): Promise<ConnectionContext> {
    // Raw Yjs clients that name no version are accepted; one that names another is refused.
    const protocol = requestParameters.get(PROTOCOL_PARAM);
    if (protocol !== null && protocol !== String(PROTOCOL_VERSION)) {
      const reason = closeReason('invalidInput', `this app speaks protocol ${protocol}, the server ${PROTOCOL_VERSION}: reload or update the app`);
      throw Object.assign(new Error(reason), { reason });
    }
    const context = await this.#track(this.access.authenticate(token, documentName, socketId));
    connectionConfig.readOnly = context.doc.kind !== 'segment' && context.doc.kind !== 'user';
    return context;
  }

  async onDisconnect({ socketId, documentName }: onDisconnectPayload): Promise<void> {
    this.access.released(socketId, documentName);
  }

  /** Closes connections whose member was removed or whose session was revoked elsewhere. */
  async #recheckConnections(): Promise<void> {
    for (const document of this.#instance?.documents.values() ?? []) {
      for (const connection of document.getConnections()) {
        const context = connection.context as ConnectionContext | undefined;
        if (!context?.doc) continue;
        const doc = context.doc;
        if (!(await this.access.sessionActive(context.deviceId))) {
          connection.close({ code: CloseCodes.unauthorized, reason: closeReason('unauthorized', 'this session was signed out') });
        } else if ((doc.kind === 'segment' || doc.kind === 'order' || doc.kind === 'server') && !(await this.access.roleOf(doc.conversationId, context.userId))) {
          connection.close({ code: CloseCodes.forbidden, reason: closeReason('forbidden', 'removed from the conversation') });
        }
      }
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
    let locked = false;
    try {
      const frame = decodeFrame(raw);
      if (frame.kind !== 'update') return;
      this.#updates.take(context.userId);
      const role = context.doc.kind === 'segment' ? await this.access.roleOf(context.doc.conversationId, context.userId) : null;
      if (context.doc.kind === 'segment' && role === null) throw new OutpostError('forbidden', 'not a member of this conversation');
      await this.#locks.acquire(document.name);
      locked = true;
      const validated = this.#validate(document, frame.update, context, role ?? 'member');
      if (validated) {
        if (validated.pending?.kind === 'segment') this.#messages.take(context.userId, validated.pending.changes.messages.length);
        await this.#claim(document.name, document, context.userId, validated.clients);
        await this.#store.logged(document.name, frame.update);
      }
      this.#pending.set(connection, validated?.pending ?? null);
    } catch (error) {
      if (locked) this.#locks.release(document.name);
      if (error instanceof OutpostError) {
        this.#log.warn('update refused', { userId: context.userId, document: document.name, kind: error.kind, reason: error.message });
        throw refusal(error);
      }
      throw error;
    }
  }

  #validate(document: Y.Doc, update: Uint8Array, context: ConnectionContext, role: Role): { pending: Pending; clients: ReadonlySet<number> } | null {
    const doc = context.doc;
    const wrap = <T, P extends Pending>(validated: Validated<T> | null, pending: (changes: T) => P) =>
      validated && { pending: pending(validated.changes), clients: validated.clients };
    switch (doc.kind) {
      case 'segment':
        return wrap(validateSegmentUpdate(document, update, { sender: context, senderRole: role, authorOf: () => undefined }), (changes) => ({
          kind: 'segment' as const,
          conversationId: doc.conversationId,
          segment: doc.segment,
          changes,
        }));
      case 'user':
        return wrap(validateUserUpdate(document, update, context), (changes) => ({ kind: 'user' as const, changes }));
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

  /** Yjs client ids belong to the first user who writes with them in a document. */
  async #claim(documentName: string, document: Y.Doc, userId: UserId, clients: ReadonlySet<number>): Promise<void> {
    let known = this.#claims.get(document);
    if (!known) this.#claims.set(document, (known = new Map()));
    const unknown = [...clients].filter((client) => known.get(client) !== userId);
    if (unknown.length === 0) return;
    const taken = await this.#storage.claimClients(documentName, userId, unknown);
    if (taken.length > 0) throw new InvalidUpdate('update reuses another user’s Yjs client id');
    for (const client of unknown) known.set(client, userId);
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

  // ── awareness: only on presence documents, only known fields, identity from the token ──

  async beforeHandleAwareness({ states, context, documentName }: beforeHandleAwarenessPayload<ConnectionContext>): Promise<void> {
    if (!context) return;
    if (parseDocName(documentName)?.kind !== 'presence') {
      states.clear();
      return;
    }
    for (const [clientId, state] of states) {
      if (state === null) continue;
      const typing = state.typing;
      if (JSON.stringify(state).length > AWARENESS_STATE_BYTES) {
        states.delete(clientId);
        continue;
      }
      for (const key of Object.keys(state)) delete state[key];
      state.typing = isUuid(typing) ? typing : null;
      state.user = { id: context.userId, deviceId: context.deviceId };
    }
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
    this.access.forgetConversation(conversationId);
    this.#presence.forget();
    const server = this.#instance?.documents.get(`conv:${conversationId}:server`);
    if (server) await materializeServer(this.#storage, server, conversationId, this.#segmentSize);
    await this.sequencer.refreshConversation(conversationId, removed);
    const gone = new Set<string>(removed);
    this.#closeWhere(
      (context) => gone.has(context.userId) && context.doc.kind !== 'user' && context.doc.kind !== 'inbox' && context.doc.kind !== 'presence' && context.doc.conversationId === conversationId,
      'forbidden',
      'removed from the conversation',
    );
  }

  /** A session was signed out (or revoked for token reuse): its connections close now. */
  sessionRevoked(deviceId: DeviceId): void {
    this.access.revokeSession(deviceId);
    this.#closeWhere((context) => context.deviceId === deviceId, 'unauthorized', 'this session was signed out');
  }

  #closeWhere(match: (context: ConnectionContext) => boolean, kind: ErrorKind, message: string): void {
    for (const document of this.#instance?.documents.values() ?? []) {
      for (const connection of document.getConnections()) {
        const context = connection.context as ConnectionContext | undefined;
        if (context?.doc && match(context)) connection.close({ code: closeCodeFor[kind], reason: closeReason(kind, message) });
      }
    }
  }
}
