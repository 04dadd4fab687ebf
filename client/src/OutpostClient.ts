// The SDK's entry point: one OutpostClient per signed-in user. It signs in over HTTP, keeps the
// user's documents in memory (persistence is a seam: see replica/DocStore.ts), syncs them over
// one WebSocket, and hands out live views. Writes go to the local documents first and return
// at once, online or not.
import * as Y from 'yjs';
import {
  Limits,
  OutpostError,
  inboxDoc,
  parseDocName,
  readInbox,
  readRemovals,
  serverDoc,
  segmentDoc,
  readNotifyLevel,
  readPreferences,
  userDoc,
  userMaps,
  writeNotifyLevel,
  writePreference,
  type AccountExport,
  type Posting,
  type ReportList,
  type ReportView,
  type ConversationId,
  type ConversationList,
  type ConversationSummary,
  type CreateConversationRequest,
  type DeviceId,
  type AttachmentEntry,
  type InboxEntry,
  type MessageId,
  type RemovalEntry,
  type NotifyLevel,
  type Preferences,
  type PublicUser,
  type Session,
  type UserId,
  type UserList,
} from '@outpost/shared-schema';
import { Account } from './account/Account.ts';
import { Admin } from './admin/Admin.ts';
import { Api, type SessionStore } from './connection/api.ts';
import { SyncConnection, type ConnectionStatus } from './connection/SyncConnection.ts';
import { Conversation, type ConversationFacts, type HistoryMode } from './conversation/Conversation.ts';
import { Derived, type Live } from './live.ts';
import { DocStore, memoryOnly, type ReplicaPersistence } from './replica/DocStore.ts';
import { Outbox, type OutboxEntry } from './replica/Outbox.ts';
import type { OperationKind, PendingOperation } from './replica/PendingOperation.ts';
import { SyncProgress, type SyncProgressValue } from './replica/SyncProgress.ts';
import { LocalSearch, type SearchHit, type SearchOptions } from './search/LocalSearch.ts';
import type { SearchWorker } from './search/WorkerSearchIndex.ts';
import { serverSearchPath, type ServerSearchOptions, type ServerSearchPage } from './search/serverSearch.ts';
import { TabRelay } from './tabs/TabRelay.ts';
import { Refusals, type Failure } from './recovery/Refusals.ts';
import { Presence } from './presence/Presence.ts';
import { Uploads, type FileLimitsView } from './files/Uploads.ts';
import { FileCopies, type FileVariant } from './files/FileCopies.ts';
import { memoryFiles, type CacheUsage, type ReplicaFiles } from './replica/ReplicaFiles.ts';
import { browserOnline, followBrowserNetwork } from './network/browserNetwork.ts';
import type { HocuspocusProvider } from '@hocuspocus/provider';

export interface OutpostClientOptions {
  /** The server's base URL, e.g. http://localhost:3000 */
  url: string;
  /** Where documents persist; memory only by default. */
  persistence?: ReplicaPersistence;
  /** A WebSocket implementation where the platform has none. */
  WebSocket?: unknown;
  /**
   * Where the newest session is kept (e.g. localStorage): every token rotation is saved there,
   * and tabs sharing it never present a refresh token another tab has used (which would sign
   * the device out). Without it, the app must store `client.session` itself.
   */
  sessionStore?: SessionStore;
  /**
   * Keep every conversation in the inbox open and synced, so the replica holds all of them
   * (for offline use and local search). Default: on when `persistence` is given.
   */
  backfill?: boolean;
  /**
   * A conversation's older segments: 'all' (default) fetches every one into the replica in the
   * background, newest first, one at a time, each subscribed only while it syncs; 'onDemand'
   * fetches them only when asked (`Conversation.loadOlder`, `Conversation.openAt`).
   */
  history?: HistoryMode;
  /**
   * Starts a module worker running `@outpost/client/search-worker`: the local search index lives
   * there, and a cold start loads the saved index beside the main thread's work instead of after
   * it. Without it (or if the worker fails) the index is kept on the main thread.
   *
   * @example
   * searchWorker: () => new Worker(new URL('./searchWorker.ts', import.meta.url), { type: 'module' })
   */
  searchWorker?: () => SearchWorker;
}

/** One row of the conversation list: the inbox entry and what the conversation's documents say. */
export interface ConversationListItem extends InboxEntry, ConversationFacts {
  id: ConversationId;
}

/** A conversation the user was removed from (or left): "You were removed from <title> by <name>". */
export interface RemovalItem extends RemovalEntry {
  id: ConversationId;
}

/**
 * A signed-in user's connection to Outpost.
 *
 * @example
 * const client = await OutpostClient.login({ url }, { username: 'ada', password: '…' });
 * const dm = client.conversation(await client.openDirect(bobId));
 * dm.send('hello');                      // returns at once, syncs when it can
 * dm.messages().subscribe(render);        // canonical order, pending last
 */
export type { Failure } from './recovery/Refusals.ts';

export class OutpostClient {
  readonly user: PublicUser;
  readonly deviceId: DeviceId;
  /** This user's devices, password and two-factor sign-in (network calls). */
  readonly account: Account;
  /** Server administration (network calls; `forbidden` unless this user is a server administrator). */
  readonly admin: Admin;
  readonly #api: Api;
  readonly #docs: DocStore;
  readonly #persistence: ReplicaPersistence;
  readonly #connection: SyncConnection;
  #userDoc: Y.Doc;
  #inbox: Y.Doc;
  readonly #presence: Presence;
  readonly #conversations = new Map<ConversationId, Conversation>();
  readonly #list: Derived<ConversationListItem[]>;
  readonly #removals: Derived<RemovalItem[]>;
  readonly #failedWork: Derived<OutboxEntry[]>;
  readonly #failed = new Map<string, OutboxEntry>();
  readonly #status: Derived<ConnectionStatus>;
  readonly #preferences: Derived<Preferences>;
  readonly #notifyLevels: Derived<ReadonlyMap<ConversationId, NotifyLevel>>;
  #statusValue: ConnectionStatus = 'connecting';
  readonly #refusals: Refusals;
  /** This client instance (a browser tab); pending operations remember which tab made them. */
  readonly tab = globalThis.crypto.randomUUID();
  readonly #providers = new Map<string, HocuspocusProvider>();
  readonly #outbox: Outbox;
  readonly #search: LocalSearch;
  readonly #progress: SyncProgress;
  readonly #relay: TabRelay | null;
  readonly #stop: (() => void)[] = [];
  #storedDocuments: Promise<string[]> | undefined;
  readonly #uploads: Uploads;
  /** The outbox and the messages waiting for their files, as one list. */
  readonly #pending: Live<OutboxEntry[]>;
  /** Resolves once the outbox holds what earlier runs left pending. */
  readonly #outboxLoaded: Promise<void>;
  readonly #copies: FileCopies;
  #fileLimits: FileLimitsView = { maxBytes: Limits.fileBytes };
  #thumbnailScan: ReturnType<typeof setTimeout> | undefined;
  /** The app's wish (connect/disconnect); the browser's offline signal overrides it meanwhile. */
  #wantOnline = true;
  readonly #history: HistoryMode;
  /** Documents that should be subscribed (a subscription starts once the replica has loaded them). */
  readonly #wanted = new Set<string>();
  /** Resolvers waiting for a document's sync handshake. */
  readonly #syncWaiters = new Map<string, { resolve: () => void; reject: (error: Error) => void }[]>();
  #closed = false;

  private constructor(options: OutpostClientOptions, api: Api, session: Session) {
    this.#api = api;
    this.user = session.user;
    this.deviceId = session.deviceId as DeviceId;
    this.account = new Account(api);
    this.admin = new Admin(api);
    this.#persistence = options.persistence ?? memoryOnly;
    // The server's clock as this device last learnt it dates what is written offline after a restart.
    this.#persistence.recall(CLOCK_OFFSET_KEY).then(
      (offset) => typeof offset === 'number' && api.clock.assume(offset),
      (error: unknown) => console.error('outpost replica: cannot recall the server’s clock', error),
    );
    api.clock.onLearnt((offset) => void this.#persistence.remember(CLOCK_OFFSET_KEY, offset).catch((error: unknown) => console.error('outpost replica: cannot remember the server’s clock', error)));
    this.#history = options.history ?? 'all';
    this.#docs = new DocStore(this.#persistence);
    const docs = this.#docs;
    // On the main thread, the saved index loads once the latest messages are on screen (loaded,
    // then painted): it takes the thread for a moment, and the last screen comes first. Older
    // segments wait for it (with history 'all' they would load beside it and make both slower).
    // A search worker loads it once the latest messages are loaded (its read of the saved copy,
    // megabytes of IndexedDB, slowed theirs when it ran beside them), on the other core, and
    // history loads meanwhile: holding history back until the index was ready delayed the latest
    // messages in the Chromium bench.
    const worker = options.searchWorker;
    this.#search = new LocalSearch({
      ...(this.#persistence.search ? { store: this.#persistence.search } : {}),
      loaded: (name) => docs.loaded(name),
      ...(worker
        ? { worker, after: () => this.loaded() }
        : {
            after: async () => {
              await this.loaded();
              await afterPaint();
              docs.holdLoads(this.#search.ready());
            },
          }),
    });
    this.#stop.push(this.#docs.onOpen((name, doc) => this.#search.watch(name, doc)));
    this.#outbox = new Outbox(this.#persistence, this.tab, (keys) => this.#relay?.settled(keys));
    const files: ReplicaFiles = this.#persistence.files ?? memoryFiles();
    this.#uploads = new Uploads({
      api,
      files,
      channel: this.#persistence.files ? `outpost-uploads-${session.deviceId}` : null,
      limits: () => this.#fileLimits,
      online: () => this.#statusValue === 'connected',
      deliver: (message, attachments) => this.#open(message.conversationId).deliver(message, attachments),
      delivered: async (message) => {
        // Its segment may not be in memory (history 'replica' keeps the recent ones): the server
        // says where it was numbered. Delivering it again would write its id twice (refused).
        const conversation = this.#open(message.conversationId);
        if (conversation.has(message.id)) return true;
        try {
          await conversation.openAt(message.id);
        } catch (error) {
          if (error instanceof OutpostError && error.kind === 'notFound') return false;
          throw error;
        }
        return conversation.has(message.id);
      },
      ready: () => this.loaded(),
      stored: () => this.stored(),
      changed: (conversationId) => this.#conversations.get(conversationId)?.changed(),
    });
    this.#copies = new FileCopies(api, files, (fileId) => this.#uploads.file(fileId));
    this.#pending = joined(this.#outbox.list(), this.#uploads.list(), (operations, waiting) => {
      const now = Date.now();
      const uploads = waiting.map(
        (message): OutboxEntry => ({
          key: `upload:${message.id}`,
          kind: 'send',
          docName: '',
          conversationId: message.conversationId,
          messageId: message.id,
          at: message.createdAt,
          tab: this.tab,
          waitedMs: now - message.createdAt,
          otherTab: false,
          ...(message.failure ? { failure: message.failure } : {}),
        }),
      );
      return uploads.length === 0 ? operations : [...operations, ...uploads].sort((a, b) => a.at - b.at);
    });
    // Tabs relay only when they share a replica; memory-only clients are separate devices.
    this.#relay =
      typeof BroadcastChannel === 'undefined' || options.persistence === undefined
        ? null
        : new TabRelay({ deviceId: session.deviceId, tab: this.tab, docs: this.#docs, outbox: this.#outbox, originFor: (name) => this.#providers.get(name) ?? TAB_ORIGIN });
    // A conversation the user lost access to is not waiting to sync.
    this.#progress = new SyncProgress(() => [...this.#conversations.values()].filter((c) => !this.#refusals.accessLost(c.id)));
    this.#status = new Derived(() => this.#statusValue);
    this.#connection = new SyncConnection({
      url: options.url,
      token: () => this.#api.accessToken(),
      onStatus: (status) => {
        this.#statusValue = status;
        this.#status.invalidate();
      },
      onRefused: (refusal) => this.#refusals.refused(refusal),
      onSynced: (docName) => {
        this.#progress.changed();
        this.#refusals.synced(docName);
        const waiters = this.#syncWaiters.get(docName);
        this.#syncWaiters.delete(docName);
        for (const waiter of waiters ?? []) waiter.resolve();
      },
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    });
    const me = this.user.id as UserId;
    this.#refusals = new Refusals({
      me,
      deviceId: this.deviceId,
      docs: this.#docs,
      connection: this.#connection,
      providers: this.#providers,
      conversation: (id) => this.#conversations.get(id),
      failUnsent: (docName, reason) => this.#failUnsent(docName, reason),
    });
    this.#stop.push(this.#docs.onOpen((name, doc) => this.#documentReplaced(name, doc)));
    // A session the server no longer refreshes: no more attempts (see onSessionExpired, onSignedOut).
    this.#stop.push(this.#api.onEnded(() => this.disconnect()));
    this.#userDoc = this.#docs.open(userDoc(me));
    this.#sync(userDoc(me), this.#userDoc);
    this.#inbox = this.#docs.open(inboxDoc(me));
    this.#sync(inboxDoc(me), this.#inbox);
    this.#presence = new Presence(me, this.#connection);

    this.#list = new Derived(() => this.#computeList());
    this.#removals = new Derived(() => [...readRemovals(this.#inbox)].map(([id, entry]) => ({ id, ...entry })).sort((a, b) => b.at - a.at));
    this.#failedWork = new Derived(() => [...this.#failed.values()]);
    this.#watchInbox(this.#inbox);
    this.#userDoc.on('update', this.#list.invalidate);
    this.#preferences = new Derived(unchanging(() => readPreferences(this.#userDoc)));
    this.#notifyLevels = new Derived<ReadonlyMap<ConversationId, NotifyLevel>>(
      unchanging(() => {
        const levels = new Map<ConversationId, NotifyLevel>();
        for (const id of userMaps(this.#userDoc).notify.keys()) {
          const level = readNotifyLevel(this.#userDoc, id as ConversationId);
          if (level) levels.set(id as ConversationId, level);
        }
        return levels;
      }),
    );
    this.#userDoc.on('update', this.#preferences.invalidate);
    this.#userDoc.on('update', this.#notifyLevels.invalidate);

    // Uploads start when the server can be reached, and again each time it can after a break.
    this.#stop.push(
      this.#status.subscribe((status) => {
        if (status !== 'connected') return;
        void this.#refreshFileLimits();
        this.#uploads.kick();
        this.#scanThumbnails();
      }),
    );

    this.#outboxLoaded = this.#outbox.start((op) => this.#isSettled(op));
    if (!browserOnline()) this.#connection.disconnect();
    this.#stop.push(
      followBrowserNetwork((online) => {
        if (!online) this.#connection.disconnect();
        else if (this.#wantOnline) this.#connection.connect();
      }),
    );
  }

  /** Starts syncing a document once the replica has loaded it (see DocStore.whenLoaded). */
  #sync(docName: string, doc: Y.Doc): void {
    this.#wanted.add(docName);
    this.#docs.whenLoaded(docName, () => {
      if (!this.#wanted.has(docName)) return;
      this.#providers.set(docName, this.#connection.attach(docName, doc));
      this.#progress.changed();
    });
  }

  /** Ends a document's subscription when nothing of it waits for the server (see ConversationHost.release). */
  #release(docName: string): boolean {
    const provider = this.#providers.get(docName);
    if (provider) {
      if (!provider.synced || provider.hasUnsyncedChanges) return false;
      if (this.#outbox.list().get().some((op) => op.docName === docName)) return false;
    }
    this.#wanted.delete(docName);
    this.#providers.delete(docName);
    this.#connection.detach(docName);
    return true;
  }

  #whenSynced(docName: string): Promise<void> {
    if (this.#connection.isSynced(docName)) return Promise.resolve();
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      const waiters = this.#syncWaiters.get(docName) ?? [];
      waiters.push({ resolve, reject });
      this.#syncWaiters.set(docName, waiters);
    });
  }

  /** Runs a user's write so that the change and its pending operation are stored together. */
  #record(kind: OperationKind, docName: string, conversationId: ConversationId, messageId: MessageId | undefined, write: () => void): void {
    const operation: PendingOperation = {
      key: globalThis.crypto.randomUUID(),
      kind,
      docName,
      conversationId,
      ...(messageId ? { messageId } : {}),
      at: Date.now(),
      tab: this.tab,
    };
    if (!this.#docs.record(operation, write)) return;
    this.#outbox.recorded(operation);
    this.#relay?.recorded(operation);
  }

  /**
   * A message is settled when it has its number; any other change when its document has been
   * through the sync handshake and the server acknowledged every update sent since.
   */
  #isSettled(op: PendingOperation): boolean {
    if (op.kind === 'send' && op.messageId) return this.#open(op.conversationId).isNumbered(op.messageId);
    const provider = this.#providers.get(op.docName);
    return provider !== undefined && provider.synced && !provider.hasUnsyncedChanges;
  }

  /** Segments of a conversation holding operations still waiting for the server (from earlier runs too). */
  async #pendingSegments(conversationId: ConversationId): Promise<number[]> {
    await this.#outboxLoaded;
    return this.#outbox
      .list()
      .get()
      .flatMap((op) => {
        const doc = parseDocName(op.docName);
        return doc?.kind === 'segment' && doc.conversationId === conversationId ? [doc.segment] : [];
      });
  }

  #storedSegments(conversationId: ConversationId): Promise<number[]> {
    this.#storedDocuments ??= this.#persistence.documents();
    return this.#storedDocuments.then((names) =>
      names.flatMap((name) => {
        const doc = parseDocName(name);
        return doc?.kind === 'segment' && doc.conversationId === conversationId ? [doc.segment] : [];
      }),
    );
  }

  // ── signing in and out ──

  static async register(
    options: OutpostClientOptions,
    request: { username: string; password: string; displayName?: string },
  ): Promise<OutpostClient> {
    return OutpostClient.#start(options, (api) => api.request<Session>('POST', '/api/auth/register', request, false), true);
  }

  /**
   * Signs in. An account with two-factor sign-in also needs `code` (from the authenticator app, or
   * a recovery code): without it, or with a wrong one, this rejects with `unauthorized` and
   * `details.secondFactor` = 'required' or 'invalid' — ask for the code and call again.
   */
  static async login(options: OutpostClientOptions, request: { username: string; password: string; code?: string }): Promise<OutpostClient> {
    return OutpostClient.#start(options, (api) => api.request<Session>('POST', '/api/auth/login', request, false), true);
  }

  /** Resumes a stored session (e.g. after a restart) without asking for the password. */
  static async resume(options: OutpostClientOptions, session: Session): Promise<OutpostClient> {
    return OutpostClient.#start(options, async () => session, false);
  }

  /** `issuedNow`: `obtain` asks the server for a new session (not one stored earlier). */
  static async #start(options: OutpostClientOptions, obtain: (api: Api) => Promise<Session>, issuedNow: boolean): Promise<OutpostClient> {
    const api = new Api(options.url, options.sessionStore);
    const session = api.adopt(await obtain(api), issuedNow);
    return new OutpostClient(options, api, session);
  }

  /**
   * Now on the server's clock as this device last learnt it (from its tokens and the server's
   * answers, kept in the replica); the device's own clock before it ever reached the server. Compare message times
   * with this, not `Date.now()`: a device's clock can be hours wrong in the field.
   */
  serverNow(): number {
    return this.#api.clock.now();
  }

  /** The current session (tokens rotate; store the latest to resume later). */
  get session(): Session {
    const session = this.#api.session;
    if (!session) throw new OutpostError('unauthorized', 'signed out');
    return session;
  }

  /**
   * Signs a session out on the server by its refresh token, with no client running: for a logout
   * made offline, whose revocation an app keeps and sends when the network returns. Signing out a
   * session that is already gone succeeds. Rejects with an OutpostError whose `details.offline`
   * is true when the server cannot be reached (keep the token and try again later).
   */
  static async revoke(options: Pick<OutpostClientOptions, 'url'>, refreshToken: string): Promise<void> {
    await new Api(options.url).request('POST', '/api/auth/logout', { refreshToken }, false);
  }

  /**
   * Sets a new password with a one-time code from a server administrator (no client running);
   * every device of that account is signed out. Rejects with `unauthorized` when the code is
   * unknown, used or expired.
   */
  static async resetPassword(options: Pick<OutpostClientOptions, 'url'>, code: string, newPassword: string): Promise<void> {
    await new Api(options.url).request('POST', '/api/auth/reset', { code, newPassword }, false);
  }

  /**
   * Revokes this session on the server and drops local state. `revoke: false` only drops local
   * state, for a session the server already ended (see `onSignedOut`).
   */
  async logout(options: { revoke?: boolean } = {}): Promise<void> {
    const session = this.#api.session;
    this.close();
    await this.#persistence.clear();
    if (session && options.revoke !== false) await this.#api.request('POST', '/api/auth/logout', { refreshToken: session.refreshToken }, false);
  }

  // ── your own data (these need the network) ──

  /**
   * Everything the server holds of this user, as the JSON archive `AccountExport`: account,
   * devices, conversations they are in, the messages they wrote with edits and reactions, their
   * reactions and their uploads (with where each is served).
   */
  async exportAccount(): Promise<AccountExport> {
    return this.#api.request<AccountExport>('GET', '/api/users/me/export');
  }

  /**
   * Erases this account, confirmed with its password: every device is signed out, the profile
   * becomes "Deleted user", and the text of every message it wrote is removed for real (from the
   * server and, as they sync, from every member's device). This device's replica is deleted too.
   * Rejects with `forbidden` when the password is wrong (nothing is erased then).
   */
  async eraseAccount(password: string): Promise<void> {
    await this.#api.request('POST', '/api/users/me/erase', { password });
    this.close();
    await this.#persistence.clear();
  }

  // ── people and conversations (these need the network) ──

  async findUsers(query: string): Promise<PublicUser[]> {
    return (await this.#api.request<UserList>('GET', `/api/users?q=${encodeURIComponent(query)}`)).users;
  }

  async me(): Promise<PublicUser> {
    return this.#api.request<PublicUser>('GET', '/api/users/me');
  }

  /** The direct conversation with `userId`, created on first ask (asking again gives the same one). */
  async openDirect(userId: string): Promise<ConversationId> {
    const request: CreateConversationRequest = { kind: 'dm', userId };
    return (await this.#api.request<ConversationSummary>('POST', '/api/conversations', request)).id as ConversationId;
  }

  async createGroup(title: string, memberIds: string[]): Promise<ConversationId> {
    const request: CreateConversationRequest = { kind: 'group', title, memberIds };
    return (await this.#api.request<ConversationSummary>('POST', '/api/conversations', request)).id as ConversationId;
  }

  async addMembers(conversationId: ConversationId, userIds: string[]): Promise<void> {
    await this.#api.request('POST', `/api/conversations/${conversationId}/members`, { userIds });
  }

  /** The owner makes a member an admin (adds, removes, deletes others' messages) or a member again. */
  async setRole(conversationId: ConversationId, userId: string, role: 'admin' | 'member'): Promise<void> {
    await this.#api.request('PATCH', `/api/conversations/${conversationId}/members/${userId}`, { role });
  }

  /** Owners and admins rename a group. */
  async rename(conversationId: ConversationId, title: string): Promise<void> {
    await this.#api.request('PATCH', `/api/conversations/${conversationId}`, { title });
  }

  /**
   * Owners and admins lock a group to admins-only posting (`'admins'`) or open it again
   * (`'everyone'`). Members see it in `conversation(id).meta().posting` and `canPost()`.
   */
  async setPosting(conversationId: ConversationId, posting: Posting): Promise<void> {
    await this.#api.request('PUT', `/api/conversations/${conversationId}/posting`, { posting });
  }

  /** Reports a message to the server administrators, with a reason; reporting it again changes nothing. */
  async report(conversationId: ConversationId, messageId: MessageId, reason: string): Promise<void> {
    await this.#api.request('POST', `/api/conversations/${conversationId}/reports`, { messageId, reason });
  }

  /** Whether this user is a server administrator (who sees reports). */
  async isServerAdmin(): Promise<boolean> {
    return (await this.account.overview()).serverAdmin;
  }

  /** Server administrators: reports of messages, newest first (open ones, or all). */
  async reports(options: { open?: boolean } = {}): Promise<ReportView[]> {
    return (await this.#api.request<ReportList>('GET', `/api/admin/reports?open=${options.open === false ? 'false' : 'true'}`)).reports;
  }

  /** Server administrators: marks a report handled. */
  async resolveReport(reportId: string): Promise<void> {
    await this.#api.request('POST', `/api/admin/reports/${encodeURIComponent(reportId)}/resolve`);
  }

  async removeMember(conversationId: ConversationId, userId: string): Promise<void> {
    await this.#api.request('DELETE', `/api/conversations/${conversationId}/members/${userId}`);
  }

  async leave(conversationId: ConversationId): Promise<void> {
    await this.removeMember(conversationId, this.user.id);
  }

  /** The conversations as the server lists them (summaries with members), over HTTP. */
  async fetchConversations(): Promise<ConversationSummary[]> {
    return (await this.#api.request<ConversationList>('GET', '/api/conversations')).conversations;
  }

  // ── live views (work offline from the local documents) ──

  /** The user's conversations, newest activity first, with unread counts. */
  conversations(): Live<ConversationListItem[]> {
    return this.#list;
  }

  #computeList(): ConversationListItem[] {
    const items: ConversationListItem[] = [];
    for (const [id, entry] of readInbox(this.#inbox)) {
      const facts = this.#open(id).facts();
      items.push({ ...entry, ...facts, id, updatedAt: Math.max(facts.updatedAt, entry.joinedAt) });
    }
    return items.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** Conversations you were removed from (or left), newest first, with who removed you. */
  removals(): Live<RemovalItem[]> {
    return this.#removals;
  }

  /** Every conversation in the inbox is open: the list is derived from their documents. */
  #watchInbox(inbox: Y.Doc): void {
    const onInbox = () => {
      for (const id of readInbox(inbox).keys()) this.#open(id);
      this.#list.invalidate();
      this.#removals.invalidate();
      this.#progress.changed();
    };
    inbox.on('update', onInbox);
    this.#stop.push(() => inbox.off('update', onInbox));
    onInbox();
  }

  /** A document was swapped for a fresh copy (quarantine, a rebuilt server document). */
  #documentReplaced(name: string, doc: Y.Doc): void {
    if (this.#inbox && name === inboxDoc(this.user.id as UserId) && doc !== this.#inbox) {
      this.#inbox = doc;
      this.#watchInbox(doc);
    }
    if (this.#userDoc && name === userDoc(this.user.id as UserId) && doc !== this.#userDoc) {
      this.#userDoc = doc;
      doc.on('update', this.#list.invalidate);
      this.#list.invalidate();
    }
  }

  /** Unsent work in a document that will never reach the server (access lost): it fails with the reason. */
  #failUnsent(docName: string, reason: string): void {
    const doc = parseDocName(docName);
    if (doc?.kind !== 'segment' && doc?.kind !== 'server') return;
    // Only what was written into the conversation's documents; a read position lives in the
    // user's own document, which still syncs.
    const failed = this.#outbox.fail((op) => op.conversationId === doc.conversationId && parseDocName(op.docName)?.kind !== 'user');
    for (const op of failed) this.#failed.set(op.key, { ...op, failure: reason });
    if (failed.length > 0) this.#failedWork.invalidate();
    this.#progress.changed();
  }

  /** Work that will not reach the server (you were removed, for instance), each with why. */
  failedWork(): Live<OutboxEntry[]> {
    return this.#failedWork;
  }

  /** A conversation's live view and actions; the same object for the same id. */
  conversation(id: ConversationId | string): Conversation {
    const conversation = this.#open(id as ConversationId);
    void this.#persistence.remember('lastConversation', id).catch((error: unknown) => console.error('outpost replica: cannot remember', error));
    return conversation;
  }

  /** The conversation last opened with `conversation(id)`, as the replica remembers it (for a cold start). */
  async lastConversation(): Promise<ConversationId | undefined> {
    return (await this.#persistence.recall('lastConversation')) as ConversationId | undefined;
  }

  #open(key: ConversationId): Conversation {
    let conversation = this.#conversations.get(key);
    if (!conversation) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the host's getter reads the client's current user document
      const client = this;
      conversation = new Conversation(
        {
          userId: this.user.id as UserId,
          username: this.user.username,
          deviceId: this.deviceId,
          docs: this.#docs,
          connection: this.#connection,
          get userDoc() {
            return client.#userDoc;
          },
          failureOf: (docName) => this.#refusals.stoppedReason(docName),
          onFailuresChanged: (listener) => this.#refusals.onChange(listener),
          setTyping: (conversationId) => this.#presence.setTyping(conversationId),
          now: () => this.#api.clock.now(),
          typingIn: (conversationId) => this.#presence.typingIn(conversationId),
          sync: (docName, doc) => this.#sync(docName, doc),
          release: (docName) => this.#release(docName),
          whenSynced: (docName) => this.#whenSynced(docName),
          place: (conversationId, messageId) =>
            this.#api.request<{ segment: number; seq: number }>('GET', `/api/conversations/${conversationId}/messages/${messageId}`),
          recall: (key) => this.#persistence.recall(key),
          remember: (key, value) => void this.#persistence.remember(key, value).catch((error: unknown) => console.error('outpost replica: cannot remember', error)),
          history: this.#history,
          record: (kind, docName, messageId, write) => this.#record(kind, docName, key, messageId, write),
          storedSegments: (conversationId) => this.#storedSegments(conversationId),
          pendingSegments: (conversationId) => this.#pendingSegments(conversationId),
          outgoing: (conversationId) => this.#uploads.in(conversationId),
          uploadState: (messageId) => this.#uploads.progress(messageId),
          addOutgoing: (message) => this.#uploads.add(message),
          updateOutgoing: (message) => this.#uploads.update(message),
          cancelOutgoing: (messageId) => this.#uploads.cancel(messageId),
          retryOutgoing: (messageId) => this.#uploads.retry(messageId),
        },
        key,
      );
      this.#conversations.set(key, conversation);
      conversation.onChange(this.#list.invalidate);
      conversation.onChange(() => this.#scanThumbnails());
      this.#progress.changed();
    }
    return conversation;
  }

  // ── notification settings: kept in the user document, so every device of the user agrees ──

  /** Do-not-disturb and sound, as any of your devices last set them; works offline. */
  preferences(): Live<Preferences> {
    return this.#preferences;
  }

  /** Sets a preference for all your devices, e.g. `setPreference('dndUntil', Date.now() + 3_600_000)`. */
  setPreference<K extends keyof Preferences>(key: K, value: Preferences[K]): void {
    this.#userDoc.transact(() => writePreference(this.#userDoc, key, value));
  }

  /** The notification level you chose per conversation; a conversation not listed has its kind's default. */
  notifyLevels(): Live<ReadonlyMap<ConversationId, NotifyLevel>> {
    return this.#notifyLevels;
  }

  /** Chooses when a conversation notifies ('none' mutes it); undefined goes back to the default. */
  setNotifyLevel(conversationId: ConversationId, level: NotifyLevel | undefined): void {
    this.#userDoc.transact(() => writeNotifyLevel(this.#userDoc, conversationId, level));
  }

  // ── attached files ──

  /**
   * The bytes of an attached file: from this device when it has them (a file still uploading,
   * a kept thumbnail or viewed image), else from the server (and kept: thumbnails always,
   * full-size images within the replica's budget). Null when offline and not on this device.
   *
   * @example
   * const blob = await client.file(conversationId, message.attachments[0], 'thumb');
   * img.src = URL.createObjectURL(blob);
   */
  file(conversationId: ConversationId | string, attachment: AttachmentEntry, variant: FileVariant = 'original'): Promise<Blob | null> {
    return this.#copies.get(conversationId as ConversationId, attachment, variant);
  }

  /** What kept files take on this device (thumbnails; full-size images within their budget). */
  fileStorage(): Live<CacheUsage | null> {
    return this.#copies.usage();
  }

  /** The largest file the server takes (as it last said; the default until it could be asked). */
  fileLimits(): FileLimitsView {
    return this.#fileLimits;
  }

  async #refreshFileLimits(): Promise<void> {
    try {
      this.#fileLimits = await this.#api.request<FileLimitsView>('GET', '/api/files/limits');
      void this.#persistence.remember('fileLimits', this.#fileLimits).catch(() => undefined);
    } catch {
      const remembered = (await this.#persistence.recall('fileLimits').catch(() => undefined)) as FileLimitsView | undefined;
      if (remembered?.maxBytes) this.#fileLimits = remembered;
    }
  }

  /** Keeps the thumbnail of every image in every conversation on this device (soon after a change). */
  #scanThumbnails(): void {
    if (this.#thumbnailScan !== undefined) return;
    this.#thumbnailScan = setTimeout(() => {
      this.#thumbnailScan = undefined;
      if (this.#statusValue !== 'connected') return;
      const wanted = [...this.#conversations.values()].flatMap((c) =>
        c.files().get().map(({ attachment }) => ({ conversationId: c.id, attachment })),
      );
      void this.#copies.keepThumbnails(wanted).catch((error: unknown) => console.error('outpost: cannot keep thumbnails', error));
    }, 500);
    (this.#thumbnailScan as { unref?: () => void }).unref?.();
  }

  /** Resolves once no file is uploading (tests, and before signing out). */
  uploadsIdle(): Promise<void> {
    return this.#uploads.idle();
  }

  // ── the replica: outbox, search, sync progress ──

  /**
   * Your writes the server has not acknowledged yet, oldest first (from every tab), messages
   * waiting for their files to upload included (their `docName` is empty: they are in no
   * document yet).
   */
  outbox(): Live<OutboxEntry[]> {
    return this.#pending;
  }

  /**
   * Resolves when every change made so far is stored in the replica (not yet the server), the
   * search index's and messages waiting for their files included.
   */
  async stored(): Promise<void> {
    await this.#uploads.stored();
    await this.#docs.flushed();
    await this.#search.saved();
  }

  /**
   * Full-text search over every message in the replica; works offline. The words are matched in
   * memory; the text of the hits returned is read from the replica for messages not loaded.
   *
   * @example
   * const hits = await client.search('pump seal', { limit: 20 });
   */
  search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    return this.#search.search(query, options);
  }

  /**
   * Full-text search on the server: every conversation you are in, and the ones you left up to
   * when you left, including history this device has not synced yet. Needs the network (throws
   * an OutpostError with `details.offline` without it); a query with no word is refused as
   * `invalidInput`. Merge with `search()` through `mergeSearchHits`.
   *
   * @example
   * const page = await client.searchServer('pump seal', { hasFile: true, limit: 20 });
   * const more = page.nextOffset === null ? null : await client.searchServer('pump seal', { hasFile: true, offset: page.nextOffset });
   */
  async searchServer(query: string, options: ServerSearchOptions = {}): Promise<ServerSearchPage> {
    return this.#api.request<ServerSearchPage>('GET', serverSearchPath(query, options));
  }

  /**
   * Resolves once the replica's saved search index is loaded: everything this device had indexed
   * is searchable, before the documents themselves are read.
   */
  searchable(): Promise<void> {
    return this.#search.ready();
  }

  /** Resolves once every change to the search index so far is saved in the replica. */
  searchSaved(): Promise<void> {
    return this.#search.saved();
  }

  /** How many conversations are fully synced, of how many known ("syncing 3 of 12"). */
  syncProgress(): Live<SyncProgressValue> {
    return this.#progress.live;
  }

  /** Users who share a conversation with you and are connected now. */
  online(): Live<UserId[]> {
    return this.#presence.online();
  }

  /** connecting / connected / disconnected. */
  status(): Live<ConnectionStatus> {
    return this.#status;
  }

  /** Documents the server refused, with the reason (e.g. removed from the conversation) and what was lost. */
  failures(): Failure[] {
    return this.#refusals.list();
  }

  /**
   * Calls `listener` once when the server says this session is over (signed out from another
   * device, the password changed, deactivated by an administrator): the app should show sign-in.
   * Returns a function that stops listening.
   */
  onSignedOut(listener: () => void): () => void {
    let told = false;
    const check = () => {
      if (told || (this.#api.ended !== 'revoked' && !this.failures().some((failure) => failure.code === 'signedOut'))) return;
      told = true;
      listener();
    };
    const stops = [this.#refusals.onChange(check), this.#api.onEnded(check)];
    check();
    return () => stops.forEach((stop) => stop());
  }

  /**
   * Calls `listener` once when this device's session has run out (a long time without reaching
   * the server): nothing is sent until the user signs in again, and everything on the device —
   * the replica, what waits to be sent — stays for the client of the next session (the same user
   * on the same persistence) to send. The app should show sign-in, and not drop local state.
   * Returns a function that stops listening.
   */
  onSessionExpired(listener: () => void): () => void {
    let told = false;
    const check = () => {
      if (told || this.#api.ended !== 'expired') return;
      told = true;
      listener();
    };
    const stop = this.#api.onEnded(check);
    check();
    return stop;
  }

  /** Forgets a failure once the user has seen it. */
  dismissFailure(docName: string): void {
    this.#refusals.dismiss(docName);
  }

  /**
   * Resolves when the replica's copy of the user's documents and of every conversation in the
   * inbox (its server document and newest segment) has loaded: an app can tell "empty" from
   * "not loaded yet".
   */
  async loaded(): Promise<void> {
    await Promise.all([this.#docs.loaded(userDoc(this.user.id as UserId)), this.#docs.loaded(inboxDoc(this.user.id as UserId))]);
    const conversations = [...this.#conversations.values()];
    await Promise.all(conversations.map((conversation) => this.#docs.loaded(serverDoc(conversation.id))));
    // The head as the server document names it (a device that has none yet has no head to wait for).
    await Promise.all(
      conversations.map((conversation) => {
        const head = conversation.meta().get()?.head;
        return head === undefined ? undefined : this.#docs.loaded(segmentDoc(conversation.id, head));
      }),
    );
  }

  // ── connectivity ──

  /** Goes offline on purpose (e.g. airplane mode in tests): nothing is sent until `connect()`. */
  disconnect(): void {
    this.#wantOnline = false;
    this.#connection.disconnect();
  }

  connect(): void {
    this.#wantOnline = true;
    this.#connection.connect();
  }

  /** True while some local change has not been acknowledged by the server. */
  get hasUnsyncedChanges(): boolean {
    return this.#connection.hasUnsyncedChanges;
  }

  /**
   * Stops this client: its socket, timers and replica connection. Changes are stored as they are
   * made (`await client.stored()` first to be sure the last ones are); what was stored is sent by
   * the next client on the same replica. A `loadOlder()` or `openAt()` still waiting for the server
   * rejects with kind `conflict` and `details.closed`; work under way stops writing.
   */
  close(): void {
    this.#closed = true;
    // What waits for a document to be in step with the server (loadOlder, openAt) fails now
    // rather than never: that will not happen in this client any more.
    for (const waiters of this.#syncWaiters.values()) for (const waiter of waiters) waiter.reject(closedError());
    this.#syncWaiters.clear();
    for (const stop of this.#stop.splice(0)) stop();
    clearTimeout(this.#thumbnailScan);
    this.#uploads.close();
    this.#outbox.stop();
    this.#relay?.close();
    this.#progress.stop();
    this.#refusals.close();
    this.#search.close();
    for (const conversation of this.#conversations.values()) conversation.close();
    this.#conversations.clear();
    this.#presence.close();
    this.#connection.destroy();
    this.#docs.destroy();
  }
}

/** What a wait that cannot end any more rejects with: the client was closed (a restart, a sign-out). */
function closedError(): OutpostError {
  return new OutpostError('conflict', 'this client was closed before the document was in step with the server: start a new one (OutpostClient.resume) to go on', { closed: true });
}

/**
 * Resolves once the browser has painted the next frame (in a task after it), or on the next task
 * where nothing paints (Node, or a hidden tab, which gets no frames: at most 100 ms later).
 */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof requestAnimationFrame !== 'function') {
      setTimeout(resolve, 0);
      return;
    }
    const hidden = setTimeout(resolve, 100);
    requestAnimationFrame(() => {
      clearTimeout(hidden);
      setTimeout(resolve, 0);
    });
  });
}

/**
 * A live value made of two others: computed again only when either has a new value (so `get()`
 * is current at once after a write, and the same object while nothing changed).
 */
function joined<A, B, T>(a: Live<A>, b: Live<B>, combine: (a: A, b: B) => T): Live<T> {
  let last: { a: A; b: B; value: T } | undefined;
  const get = (): T => {
    const [va, vb] = [a.get(), b.get()];
    if (!last || last.a !== va || last.b !== vb) last = { a: va, b: vb, value: combine(va, vb) };
    return last.value;
  };
  return {
    get,
    subscribe(listener) {
      let ready = false;
      const changed = () => ready && listener(get());
      const stops = [a.subscribe(changed), b.subscribe(changed)];
      ready = true;
      listener(get());
      return () => stops.forEach((stop) => stop());
    },
  };
}

/** Wraps `compute` so that an equal result keeps the previous value (live views re-render less). */
function unchanging<T>(compute: () => T): () => T {
  let last: { value: T; json: string } | undefined;
  return () => {
    const value = compute();
    const json = JSON.stringify(value instanceof Map ? [...value] : value);
    if (last?.json !== json) last = { value, json };
    return last.value;
  };
}

/** Where the replica keeps the server's clock minus this device's (ServerClock). */
const CLOCK_OFFSET_KEY = 'clockOffsetMs';

/** The origin of a change relayed from another tab before this tab's connection to it exists. */
const TAB_ORIGIN = Symbol('tab');
