// Assembles one Outpost node: storage, auth, the REST API and the Hocuspocus endpoint at /sync,
// all on one port. Tests start it on port 0; main.ts starts it from the environment.
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import { Hocuspocus, type Document } from '@hocuspocus/server';
import { Hono } from 'hono';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCodes, Limits, readMeta, segmentDoc, serverDoc, type DeviceId } from '@outpost/shared-schema';
import { SQLITE_FILE, openStorage, type Storage } from '@outpost/storage';
import { openWhenReachable } from './databaseWait.ts';
import { Audit } from './audit/Audit.ts';
import { AccountSecurity } from './auth/accountSecurity.ts';
import { Sessions } from './auth/sessions.ts';
import { Administrators } from './admin/Administrators.ts';
import { showToAdministrator, type Mailer } from './admin/Mailer.ts';
import { TwoFactor } from './auth/twoFactor.ts';
import { RateLimiter, RateLimits } from './rateLimiter.ts';
import { loadSigningKey } from './auth/signingKey.ts';
import { createTokenSigner } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { Conversations } from './conversations.ts';
import { FileService } from './files/FileService.ts';
import { createApp } from './http/app.ts';
import { mountWebApp } from './http/webApp.ts';
import { metricsHandler } from './http/operations.ts';
import { metrics, observeNode } from './metrics.ts';
import { flushTracing, startTracing } from './tracing.ts';
import { createLogger, type Logger } from './log.ts';
import { coalesceWrites } from './sync/coalesceWrites.ts';
import { OutpostHocuspocus, sendSyncAnswersInPiecesOf } from './sync/OutpostHocuspocus.ts';
import { dropNotStoredStatus } from './sync/notStoredStatus.ts';
import { LocalCoordinator, type Coordinator } from './coordination/Coordinator.ts';
import { RedisCoordinator } from './coordination/RedisCoordinator.ts';
import { commitRequests } from './sync/commitRequest.ts';
import { Committer } from './sync/committer.ts';
import { sqliteCommitTarget } from './sync/commitWorker.ts';
import { DocumentStore } from './sync/documentStore.ts';
import { Erasure } from './sync/erasure.ts';
import { MessageRemoval } from './sync/messageRemoval.ts';
import { AccountPrivacy } from './privacy.ts';
import { Moderation } from './moderation.ts';
import { LoadedDocuments } from './sync/documents.ts';
import { ProjectionWriter } from './sync/projectionWriter.ts';
import { ServerDocuments } from './sync/serverDocuments.ts';
import { SyncEngine, openDocuments } from './sync/SyncEngine.ts';
import { WritePath } from './sync/writePath.ts';
import { socketFlow } from './sync/socketFlow.ts';

export interface OutpostServer {
  /** http(s)://host:port of the running server. */
  url: string;
  port: number;
  /** http://host:port/metrics of the separate metrics listener (METRICS_PORT), or null. */
  metricsUrl: string | null;
  storage: Storage;
  hocuspocus: Hocuspocus;
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): no new connections, what is in flight finishes (at most
   * `deadlineMs`), then every socket closes with "server restarting" (the SDK reconnects at
   * once, through the load balancer to another node), then the node closes (its parts get
   * `deadlineMs` more; the caller exits after this resolves).
   */
  drain(deadlineMs?: number): Promise<void>;
  /** Resolves when every deletion applied so far is erased from storage (log compacted, read model and files scrubbed). */
  erased(): Promise<void>;
}

/** Shared by every socket's request: Hocuspocus passes headers to hooks, and no hook of ours reads them. */
const NO_HEADERS = new Headers();

/**
 * What Hocuspocus keeps of the upgrade request for the socket's life: its path and query (the
 * protocol version), all any hook of ours reads. Not undici's Request with the headers copied,
 * whose parsed URL, headers and signal would stay with every idle socket (~1.7 KB), and a path
 * without a host, so Hocuspocus parses each document's query with URLSearchParams, not URL.
 */
function syncRequest(req: IncomingMessage): Request {
  return { url: req.url ?? '/sync', headers: NO_HEADERS } as unknown as Request;
}

function bytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** What a deployment plugs in beside the settings. */
export interface ServerOptions {
  /** Delivers password reset codes (default: none; the administrator is shown the code). */
  mailer?: Mailer;
}

export async function startServer(config: Config, log: Logger = createLogger(config.logLevel), options: ServerOptions = {}): Promise<OutpostServer> {
  // Before anything else, so the first requests are traced too; the SDK is loaded only here.
  if (config.tracing) await startTracing(config.tracing, log);
  const storage = await openWhenReachable(
    openStorage,
    {
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      postgres: {
        ...config.postgres,
        onIdleError: (error) => log.warn('postgres: an idle connection was lost; the pool opens a new one when needed', { error }),
      },
    },
    log,
    config.databaseStartWaitMs,
  );
  const audit = new Audit(storage, log, (kind) => metrics.auditEvents.inc({ kind }));
  const key = await loadSigningKey(config.dataDir, config.signingKey);
  const signer = createTokenSigner(key, { issuer: config.issuer, audience: config.audience, ttlSeconds: config.accessTokenTtlSeconds });
  const coordinator: Coordinator = config.redisUrl ? new RedisCoordinator(config.redisUrl, log) : new LocalCoordinator();
  // SQLite commits and compacts on a worker thread (its fsync never blocks the event loop); Postgres on the pool.
  const sqliteCommits = config.databaseUrl ? null : sqliteCommitTarget(path.join(config.dataDir, SQLITE_FILE), (error) => log.warn('search: new messages could not be indexed now; they wait for the next turn', { error }));
  const committer = new Committer(sqliteCommits?.commit ?? ((requests, now) => commitRequests(storage.log, requests, now)), log);
  const documents = new LoadedDocuments(storage.log, log);
  const projection = new ProjectionWriter(storage.projection, log);
  let hocuspocus: Hocuspocus | undefined = undefined;
  // The write path's fan-out reaches the parts below once they exist (they need it first).
  const late: { engine?: SyncEngine; store?: DocumentStore; serverDocuments?: ServerDocuments } = {};
  const erasure = new Erasure({
    flushProjection: () => projection.flush(),
    compact: async (name) => late.store?.compact(name),
    storage,
    log,
  });
  const open = openDocuments(() => hocuspocus, (name) => late.store?.loading(name));
  const writePath = new WritePath({
    documents,
    committer,
    log,
    segmentSize: config.segmentSize,
    hooks: {
      admitMessages: async (userId, count) => late.engine?.admitMessages(userId, count),
      mayPost: async (conversationId, role) => role !== 'member' || (await (late.engine?.access.postingOf(conversationId) ?? storage.moderation.getPosting(conversationId))) === 'everyone',
      numberedIn: async (conversationId, messageId) => (await storage.projection.getMessage(conversationId, messageId))?.segment ?? null,
      committed: (name, version, entry) => {
        late.store?.committed(name, version);
        coordinator.announceAppend({ doc: name, version, update: entry });
      },
      segmentApplied: (conversationId, segment, doc, changes, outcome) => {
        const segmentName = segmentDoc(conversationId, segment);
        for (const removed of changes.removedByModerator) {
          audit.recordLater('message.removedByModerator', removed.by, removed.id, { conversation: conversationId, author: removed.author });
        }
        if (changes.touched.size > 0) projection.touched(conversationId, doc, changes.touched);
        if (changes.tombstones.length > 0) erasure.deleted(segmentName);
        if (changes.touched.size > 0 || changes.messages.length > 0) late.serverDocuments?.segmentChanged(conversationId, segment);
        const server = open.get(serverDoc(conversationId));
        if (server && outcome.cursor && outcome.cursor.head !== readMeta(server)?.head) late.serverDocuments?.headMoved(conversationId);
      },
      readsApplied: (_userId, reads) => late.serverDocuments?.receiptsChanged(reads.map((read) => read.conversationId)),
    },
  });
  const serverDocuments = (late.serverDocuments = new ServerDocuments({ storage, writePath, open, segmentSize: config.segmentSize, log, contentRemoved: (name) => erasure.deleted(name) }));
  const store = (late.store = new DocumentStore({ log: storage.log, logger: log, documents, serverDocuments, coordinator, writePath, ...(sqliteCommits ? { compactor: sqliteCommits.compact } : {}) }));
  const engine = (late.engine = new SyncEngine({ storage, signer, writePath, serverDocuments, committer, coordinator, log }));
  const revoked = (deviceId: DeviceId) => engine.sessionRevoked(deviceId);
  const account = new AccountSecurity(storage, audit, revoked);
  const twoFactor = new TwoFactor(storage, audit, account, new RateLimiter('two-factor codes for this account', RateLimits.secondFactorCodesPerUser, coordinator.store));
  const admins = new Administrators({
    storage, audit, account, mailer: options.mailer ?? showToAdministrator, adminUsers: config.adminUsers, resetTtlMs: config.passwordResetTtlSeconds * 1000,
  });
  const sessions = new Sessions({ storage, signer, refreshTtlSeconds: config.refreshTokenTtlSeconds, onRevoked: revoked, audit, twoFactor });
  sendSyncAnswersInPiecesOf(config.syncPieceBytes);
  hocuspocus = new OutpostHocuspocus({ quiet: true, extensions: [engine, store], unloadImmediately: true });
  engine.attach(hocuspocus);
  const loaded = (name: string) => (open.get(name) as Document | undefined) ?? null;
  await coordinator.start({
    append: (notice) => {
      const doc = loaded(notice.doc);
      if (doc) void writePath.received(notice.doc, doc, notice).catch((error: unknown) => log.warn('an append notice could not be applied; the next write catches up', { error }));
    },
    control: (notice) => engine.onControl(notice),
    presence: (notice) => engine.onPresence(notice),
    resumed: () => {
      for (const [name, doc] of hocuspocus.documents) {
        void writePath.catchUp(name, doc).catch((error: unknown) => log.warn('could not catch up after redis came back', { document: name, error }));
      }
    },
  });
  let draining = false;
  const conversations = new Conversations(storage, engine, audit);
  const removal = new MessageRemoval({ hocuspocus: () => hocuspocus, writePath, projection, erasure, segmentChanged: (id, segment) => serverDocuments.segmentChanged(id, segment) });
  const privacy = new AccountPrivacy({ storage, sync: engine, removal, writePath, erasure, hocuspocus: () => hocuspocus, audit, log });
  const moderation = new Moderation({ storage, sync: engine, audit, isAdministrator: (userId) => admins.isAdmin(userId) });
  const files = new FileService({ storage, limits: config.files, dataDir: config.dataDir, redis: coordinator.store, log });
  await files.start();
  const app = createApp({
    storage,
    ...(sqliteCommits ? { indexSearch: sqliteCommits.indexSearch } : {}),
    sessions,
    account,
    twoFactor,
    admins,
    publicUrl: config.publicUrl,
    signer,
    access: engine.access,
    conversations,
    files,
    privacy,
    moderation,
    corsOrigins: config.corsOrigins,
    authAttemptsPerAddress: config.authAttemptsPerAddress,
    trustProxy: config.trustProxy,
    redis: coordinator.store,
    log,
    operations: { readiness: { storage, redis: coordinator.store, draining: () => draining }, metrics: config.metrics },
  });
  if (!mountWebApp(app, config.webDir)) {
    app.get('/', (c) => c.text('Outpost is running. The API is under /api, the sync endpoint at /sync. (No web app build found.)'));
  }

  // With TLS_CERT/TLS_KEY the node speaks HTTPS and WSS itself (phones need it for offline use).
  const httpServer = (config.tls
    ? createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: config.tls })
    : createAdaptorServer({ fetch: app.fetch })) as Server;
  const wss = new WebSocketServer({ noServer: true, maxPayload: Limits.frameBytes });
  /** Wires one WebSocket to Hocuspocus and to access control (counted where it opens and closes). */
  const attachSocket = (ws: WebSocket, socket: Duplex, request: Request) => {
    coalesceWrites(ws, socket);
    dropNotStoredStatus(ws);
    const record = engine.access.openSocket();
    record.terminate = (code, reason) => ws.close(code, reason);
    const connection = hocuspocus.handleConnection(ws, request, { socket: record });
    const spend = socketFlow(ws, socket, {
      outbound: config.socketSend,
      tooSlow: (buffered) => {
        metrics.socketsTooSlow.inc();
        log.warn('a socket was closed: its client left too much unread', { connectionId: record.id, userId: record.userId, bufferedBytes: buffered, limit: config.socketSend.maxBytes });
      },
    });
    ws.on('message', (data) => {
      const frame = bytes(data);
      spend(frame.byteLength);
      connection.handleMessage(frame);
    });
    log.debug('socket opened', { connectionId: record.id });
    ws.on('close', (code, reason) => {
      log.debug('socket closed', { connectionId: record.id, userId: record.userId, code });
      engine.access.closeSocket(record);
      connection.handleClose({ code, reason: reason.toString() });
    });
    ws.on('error', (error) => log.warn('websocket error', { connectionId: record.id, userId: record.userId, error }));
  };
  httpServer.on('upgrade', (req, socket, head) => {
    if (draining || new URL(req.url ?? '/', 'http://localhost').pathname !== '/sync') {
      socket.destroy();
      return;
    }
    // The callback must not close over `req`: the IncomingMessage would then live as long as the socket.
    const request = syncRequest(req);
    wss.handleUpgrade(req, socket, head, (ws) => attachSocket(ws, socket, request));
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const unobserve = observeNode({
    connections: () => wss.clients.size,
    sendBufferBytes: () => {
      let bytes = 0;
      for (const ws of wss.clients) bytes += ws.bufferedAmount;
      return bytes;
    },
    documents: () => hocuspocus.documents.size,
    pool: () => storage.poolStats(),
    redisUp: () => (config.redisUrl ? coordinator.connected : null),
  });
  const metricsServer = config.metrics.port === undefined ? null : await listenMetrics(config);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      unobserve();
      await metricsServer?.close();
      const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      for (const ws of wss.clients) ws.terminate();
      hocuspocus.closeConnections();
      files.close();
      await engine.close();
      await committer.flush();
      await serverDocuments.close();
      await projection.flush();
      await erasure.settled();
      await store.flush();
      writePath.close();
      await sqliteCommits?.close();
      await coordinator.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await httpClosed; // in-flight requests finish before storage goes
      await storage.close();
      await flushTracing();
    })();
    return closing;
  };
  return {
    url: `${config.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    metricsUrl: metricsServer?.url ?? null,
    storage,
    hocuspocus,
    close,
    erased: () => erasure.settled(),
    async drain(deadlineMs = 10_000) {
      draining = true;
      httpServer.close();
      const settled = Promise.all([engine.drain(), committer.flush()]);
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, deadlineMs).unref())]);
      const closed = [...wss.clients].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of wss.clients) ws.close(CloseCodes.restarting, 'server restarting');
      await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      // What is acknowledged is in the log already: a part that does not finish closing within the
      // deadline must not keep the node from exiting (an orchestrator would kill it anyway).
      const timedOut = await Promise.race([close().then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), deadlineMs).unref())]);
      if (timedOut) log.warn('draining: closing did not finish within the deadline; exiting anyway', { deadlineMs });
    },
  };
}

/** The separate listener of METRICS_PORT: GET /metrics and nothing else. */
async function listenMetrics(config: Config): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono();
  app.get('/metrics', metricsHandler(config.metrics));
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metrics.port, config.metrics.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.metrics.host.includes(':') ? `[${config.metrics.host}]` : config.metrics.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
