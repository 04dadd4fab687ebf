// The Hocuspocus extension that makes a generic Yjs server into Outpost's. It only wires hooks
// to the parts that do the work: access.ts (who may open what), writePath.ts (every client
// update: judge → commit → apply), serverDocuments.ts (server-owned views), presence.ts.
// Hocuspocus never applies a client's bytes itself: every connection is read-only to it, and
// the write path applies what it has judged and committed.
import type {
  Connection,
  Extension,
  Hocuspocus,
  afterLoadDocumentPayload,
  beforeHandleAwarenessPayload,
  connectedPayload,
  beforeHandleMessagePayload,
  onAuthenticatePayload,
  onAwarenessUpdatePayload,
  onDisconnectPayload,
} from '@hocuspocus/server';
import type * as Y from 'yjs';
import {
  CloseCodes,
  PROTOCOL_PARAM,
  PROTOCOL_VERSION,
  SERVER_CLIENT_BASE,
  isUuid,
  parseDocName,
  type ConversationId,
  type DeviceId,
  type UserId,
} from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { TokenSigner } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import { metrics } from '../metrics.ts';
import { traced } from '../tracing.ts';
import { RateLimiter, RateLimits } from '../rateLimiter.ts';
import type { Coordinator, ControlNotice, PresenceNotice } from '../coordination/Coordinator.ts';
import { AccessControl, ROLES_REFRESH_MS, type ConnectionContext, type SocketRecord } from './access.ts';
import type { Committer } from './committer.ts';
import { decodeFrame } from './frames.ts';
import { InFlight } from './inFlight.ts';
import { PresenceRelay } from './presence.ts';
import { Refused, asRefusal, retryLater } from './refusals.ts';
import type { ServerDocuments } from './serverDocuments.ts';
import type { WritePath } from './writePath.ts';

export type { ConnectionContext } from './access.ts';

/**
 * How often every connection's session and membership are checked again. Removals and sign-outs
 * close connections at once, on every node, through notices; the sweep catches what a lost notice
 * (Redis away) or an expiring session did not say. It walks every connection, so it is not run
 * more often than it must: thousands of idle connections would cost CPU for nothing.
 */
const SWEEP_MS = 5_000;

/** Awareness a client may set: only `typing`, at most this many bytes. */
const AWARENESS_STATE_BYTES = 1_024;
/** Writes waiting for a commit beyond which new updates are refused as "try again". */
const OVERLOADED_AT = 20_000;

/** An error Hocuspocus turns into a close of that document's connection with our reason. */
function closing(refusal: Refused): Error & { code: number; reason: string } {
  return Object.assign(new Error(refusal.reason), { code: 4000, reason: refusal.reason });
}

export class SyncEngine implements Extension {
  extensionName = 'OutpostSyncEngine';
  // Runs before the document store's hooks: access first, then persistence.
  priority = 200;
  readonly access: AccessControl;
  #instance: Hocuspocus | undefined;
  readonly #writePath: WritePath;
  readonly #serverDocuments: ServerDocuments;
  readonly #committer: Committer;
  readonly #coordinator: Coordinator;
  readonly #log: Logger;
  readonly #presence: PresenceRelay;
  readonly #updates: RateLimiter;
  readonly #messages: RateLimiter;
  /** Work started by hooks and not finished yet; `drain()` waits for it before shutdown. */
  readonly #inFlight = new InFlight();
  #closing = false;
  readonly #sweep: NodeJS.Timeout;
  readonly #rolesRefresh: NodeJS.Timeout;

  constructor(options: {
    storage: Storage;
    signer: TokenSigner;
    writePath: WritePath;
    serverDocuments: ServerDocuments;
    committer: Committer;
    coordinator: Coordinator;
    log: Logger;
  }) {
    this.#writePath = options.writePath;
    this.#serverDocuments = options.serverDocuments;
    this.#committer = options.committer;
    this.#coordinator = options.coordinator;
    this.#log = options.log;
    this.#updates = new RateLimiter('updates', RateLimits.updatesPerUser, options.coordinator.store);
    this.#messages = new RateLimiter('messages', RateLimits.messagesPerUser, options.coordinator.store);
    this.access = new AccessControl(options.storage, options.signer);
    this.#presence = new PresenceRelay(options.storage, () => this.#instance?.documents ?? new Map(), (notice) => this.#coordinator.announcePresence(notice));
    this.#sweep = setInterval(() => void this.#track(this.#recheckConnections()), SWEEP_MS);
    this.#sweep.unref();
    // Roles in use are asked again before they go stale, so the write path finds them cached. A
    // database away fails it every 1.5 s: said once when it starts failing and once when it is back.
    let failing = false;
    this.#rolesRefresh = setInterval(
      () =>
        void this.#track(this.access.refreshRolesInUse()).then(
          () => {
            if (failing) this.#log.info('refreshing roles works again');
            failing = false;
          },
          (error: unknown) => {
            if (!failing) this.#log.warn('refreshing roles failed; each is asked for when next needed, and the refresh is tried again every 1.5 s', { error });
            failing = true;
          },
        ),
      ROLES_REFRESH_MS,
    );
    this.#rolesRefresh.unref();
  }

  attach(instance: Hocuspocus): void {
    this.#instance = instance;
  }

  /** New messages may be written (the per-user budget); called by the write path before it commits. */
  async admitMessages(userId: UserId, count: number): Promise<void> {
    if (count > 0) await this.#messages.take(userId, count);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    return this.#inFlight.track(work);
  }

  /** Stops background work that shutdown would cut short, then waits for hook work to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#sweep);
    clearInterval(this.#rolesRefresh);
    await this.drain();
  }

  /** Resolves when no hook work is running (new work may start meanwhile; loops until quiet). */
  async drain(): Promise<void> {
    await this.#inFlight.settled();
  }

  // ── access ──

  async onAuthenticate({ token, documentName, connectionConfig, context, requestParameters }: onAuthenticatePayload): Promise<ConnectionContext> {
    // Raw Yjs clients that name no version are accepted; one that names another is refused.
    const protocol = requestParameters.get(PROTOCOL_PARAM);
    if (protocol !== null && protocol !== String(PROTOCOL_VERSION)) {
      throw closing(new Refused('invalidInput', 'outdated', `this app speaks protocol ${protocol}, the server ${PROTOCOL_VERSION}: reload or update the app`));
    }
    const socket = (context as { socket?: SocketRecord }).socket;
    if (!socket) throw new Error('invariant failed: a connection without its socket record');
    try {
      const result = await this.#track(this.access.authenticate(token, documentName, socket));
      // The write path applies what it judged; Hocuspocus applies nothing a client sends.
      connectionConfig.readOnly = true;
      this.#log.debug('document opened', { connectionId: socket.id, userId: result.userId, deviceId: result.deviceId, document: documentName });
      return result;
    } catch (error) {
      const refusal = asRefusal(error);
      this.#log.info('document refused', { connectionId: socket.id, document: documentName, kind: refusal.kind, code: refusal.code, reason: refusal.message });
      throw closing(refusal);
    }
  }

  async onDisconnect({ context }: onDisconnectPayload): Promise<void> {
    const connection = context as ConnectionContext | undefined;
    if (connection?.connectionKey === undefined) return;
    this.access.released(connection);
    this.#writePath.connectionClosed(connection);
  }

  /** Closes connections whose member was removed or whose session was revoked elsewhere. */
  async #recheckConnections(): Promise<void> {
    const documents = [...(this.#instance?.documents.values() ?? [])];
    // One query for the sessions and one for the memberships of every connection here; the
    // checks below then hit the cache.
    const contexts = documents.flatMap((document) =>
      document.getConnections().flatMap((connection) => {
        const context = connection.context as ConnectionContext | undefined;
        return context?.doc ? [context] : [];
      }),
    );
    await this.access.refreshSessions(contexts.map((context) => context.deviceId));
    await this.access.refreshRoles(
      contexts.flatMap(({ doc, userId }) => (doc.kind === 'segment' || doc.kind === 'server' ? [{ conversationId: doc.conversationId, userId }] : [])),
    );
    for (const document of documents) {
      for (const connection of document.getConnections()) {
        const context = connection.context as ConnectionContext | undefined;
        if (!context?.doc) continue;
        const doc = context.doc;
        if (!(await this.access.sessionActive(context.deviceId))) {
          this.#close(connection, new Refused('unauthorized', 'signedOut', 'this session was signed out'));
        } else if ((doc.kind === 'segment' || doc.kind === 'server') && !(await this.access.roleOf(doc.conversationId, context.userId, Date.now(), false))) {
          this.#close(connection, new Refused('forbidden', 'accessLost', 'removed from the conversation'));
        }
      }
    }
  }

  // ── loading ──

  afterLoadDocument({ documentName }: afterLoadDocumentPayload): Promise<void> {
    const doc = parseDocName(documentName);
    if (doc?.kind !== 'presence') return Promise.resolve();
    return this.#track(this.#presence.onPresenceOpened(doc.userId));
  }

  /**
   * A connection set up just as its document was unloaded (its last other connection had closed
   * a moment before) joins the unloaded copy, which nothing updates any more: the device finishes
   * the handshake against it and misses every later change while it stays connected. It is
   * closed at once as "try again", and syncs again on the copy that is loaded now.
   */
  async connected({ documentName, connection, context }: connectedPayload<ConnectionContext>): Promise<void> {
    if (this.#instance?.documents.get(documentName) === connection.document) return;
    this.#log.warn('a connection joined a document as it was unloaded; it syncs again', { connectionId: context.socket.id, document: documentName });
    this.#close(connection, retryLater('internal', 'the document was reloading; it syncs again', 0));
  }

  // ── the write path ──

  beforeHandleMessage(payload: beforeHandleMessagePayload<ConnectionContext>): Promise<void> {
    return this.#track(this.#beforeHandleMessage(payload));
  }

  async #beforeHandleMessage({ connection, update: raw, document, context }: beforeHandleMessagePayload<ConnectionContext>): Promise<void> {
    const receivedAt = performance.now();
    try {
      const frame = decodeFrame(raw);
      if (frame.kind === 'other') return;
      // A client asks what it lacks: answer from a copy that has what other nodes announced.
      if (frame.kind === 'step1') return await this.#writePath.current(document.name, document);
      const docName = context.doc;
      // Server-owned documents take no client writes: Hocuspocus (read-only) applies nothing,
      // and a stale copy's structs are never a reason to stop syncing one.
      if (docName.kind !== 'segment' && docName.kind !== 'user') return;
      const attributes = { 'outpost.document': document.name, 'outpost.user_id': context.userId, 'outpost.connection_id': context.socket.id };
      await traced('outpost.update', attributes, async (span) => {
        await this.#updates.take(context.userId);
        if (this.#committer.queued > OVERLOADED_AT) throw retryLater('rateLimited', 'the server is busy; the change will be sent again', 1_000);
        const role = docName.kind === 'segment' ? await this.access.roleOf(docName.conversationId, context.userId) : null;
        const result = await this.#writePath.submit({
          name: document.name,
          docName,
          doc: document,
          update: frame.update,
          sender: { userId: context.userId, deviceId: context.deviceId },
          role,
          connection: connection as Connection,
          frame: frame.kind,
          receivedAt,
        });
        span?.setAttribute('outpost.outcome', result);
        if (result === 'applied') metrics.updatesAccepted.inc({ doc: docName.kind });
      });
    } catch (error) {
      const refusal = asRefusal(error);
      metrics.updatesRefused.inc({ kind: refusal.kind, code: refusal.code });
      this.#log.warn('update refused', {
        connectionId: context.socket.id,
        userId: context.userId,
        deviceId: context.deviceId,
        document: document.name,
        kind: refusal.kind,
        code: refusal.code,
        reason: refusal.message,
      });
      throw closing(refusal);
    }
  }

  // ── awareness: only on presence documents, only known fields, identity from the token ──

  async beforeHandleAwareness({ states, context, documentName, document, connection }: beforeHandleAwarenessPayload<ConnectionContext>): Promise<void> {
    if (!context) return;
    if (parseDocName(documentName)?.kind !== 'presence') {
      states.clear();
      return;
    }
    // A client id belongs to the connection that introduced it; relayed slots to the relay.
    const others = new Set<number>();
    for (const other of document.getConnections()) if (other !== connection) for (const id of document.getClients(other)) others.add(id as number);
    for (const [clientId, state] of states) {
      if (clientId >= SERVER_CLIENT_BASE || others.has(clientId)) {
        states.delete(clientId);
        continue;
      }
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

  /**
   * Membership, roles or a title changed: caches forget, the server doc and the inboxes of
   * `users` follow, and removed members are cut off at once — on every node.
   */
  async membershipChanged(conversationId: ConversationId, users: readonly UserId[], removed: readonly UserId[] = [], announce = true): Promise<void> {
    if (announce) this.#coordinator.announceControl({ type: 'membership', conversationId, users: [...users], removed: [...removed] });
    this.access.forgetConversation(conversationId);
    this.#presence.forget();
    await this.#serverDocuments.conversationChanged(conversationId, [...users, ...removed]);
    const gone = new Set<string>(removed);
    this.#closeWhere(
      (context) => gone.has(context.userId) && (context.doc.kind === 'segment' || context.doc.kind === 'server') && context.doc.conversationId === conversationId,
      new Refused('forbidden', 'accessLost', 'removed from the conversation'),
    );
  }

  /** A session was signed out (or revoked for token reuse): its connections close now, on every node. */
  sessionRevoked(deviceId: DeviceId, announce = true): void {
    if (announce) this.#coordinator.announceControl({ type: 'sessionRevoked', deviceId });
    this.access.revokeSession(deviceId);
    this.#closeWhere((context) => context.deviceId === deviceId, new Refused('unauthorized', 'signedOut', 'this session was signed out'));
    // Then the socket itself (its documents' refusals go out first, in order on the wire).
    for (const socket of this.access.socketsOf(deviceId)) socket.terminate(CloseCodes.unauthorized, 'signed out');
  }

  // ── notices from other nodes ──

  /** Another node changed membership or revoked a session. */
  onControl(notice: ControlNotice): void {
    switch (notice.type) {
      case 'membership':
        void this.#track(this.membershipChanged(notice.conversationId, notice.users, notice.removed, false)).catch((error: unknown) =>
          this.#log.warn('a membership notice could not be applied; the sweep catches it', { error }),
        );
        return;
      case 'sessionRevoked':
        this.sessionRevoked(notice.deviceId, false);
        return;
    }
  }

  /** A user's presence changed on another node: relay it to their contacts here. */
  onPresence(notice: PresenceNotice): void {
    if (this.#closing) return;
    void this.#track(this.#presence.relayRemote(notice)).catch((error: unknown) => this.#log.warn('presence relay failed', { error }));
  }

  #closeWhere(match: (context: ConnectionContext) => boolean, refusal: Refused): void {
    for (const document of this.#instance?.documents.values() ?? []) {
      for (const connection of document.getConnections()) {
        const context = connection.context as ConnectionContext | undefined;
        if (context?.doc && match(context)) this.#close(connection, refusal);
      }
    }
  }

  #close(connection: Connection, refusal: Refused): void {
    connection.close({ code: 4000, reason: refusal.reason });
  }
}

/** The documents a node has open or is loading, for the parts that change or read them. */
export function openDocuments(instance: () => Hocuspocus | undefined, loading: (name: string) => Y.Doc | undefined = () => undefined): { get(name: string): Y.Doc | undefined } {
  return { get: (name) => instance()?.documents.get(name) ?? loading(name) };
}
