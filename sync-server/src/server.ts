// Assembles one Outpost node: storage, auth, the REST API and the Hocuspocus endpoint at /sync,
// all on one port. Tests start it on port 0; main.ts starts it from the environment.
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hocuspocus } from '@hocuspocus/server';
import { WebSocketServer, type RawData } from 'ws';
import { Limits } from '@outpost/shared-schema';
import { openStorage, type Storage } from '@outpost/storage';
import { Sessions } from './auth/sessions.ts';
import { loadSigningKey } from './auth/signingKey.ts';
import { createTokenSigner } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { Conversations } from './conversations.ts';
import { createApp } from './http/app.ts';
import { mountWebApp } from './http/webApp.ts';
import { createLogger, type Logger } from './log.ts';
import { DocumentStore } from './sync/documentStore.ts';
import { SyncEngine } from './sync/SyncEngine.ts';

export interface OutpostServer {
  /** http://host:port of the running server. */
  url: string;
  port: number;
  storage: Storage;
  hocuspocus: Hocuspocus;
  close(): Promise<void>;
}

function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { headers });
}

function bytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export async function startServer(config: Config, log: Logger = createLogger(config.logLevel)): Promise<OutpostServer> {
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const key = await loadSigningKey(config.dataDir, config.signingKey);
  const signer = createTokenSigner(key, { issuer: config.issuer, audience: config.audience, ttlSeconds: config.accessTokenTtlSeconds });
  const store = new DocumentStore(storage, log);
  const engine = new SyncEngine({ storage, signer, store, segmentSize: config.segmentSize, log });
  const sessions = new Sessions(storage, signer, config.refreshTokenTtlSeconds, (deviceId) => engine.sessionRevoked(deviceId));
  const hocuspocus = new Hocuspocus({ quiet: true, extensions: [engine, store], unloadImmediately: true });
  engine.attach(hocuspocus);
  const conversations = new Conversations(storage, engine);
  const app = createApp({ storage, sessions, signer, access: engine.access, conversations, corsOrigins: config.corsOrigins, authAttemptsPerAddress: config.authAttemptsPerAddress, log });
  if (!mountWebApp(app, config.webDir)) {
    app.get('/', (c) => c.text('Outpost is running. The API is under /api, the sync endpoint at /sync. (No web app build found.)'));
  }

  const httpServer = createAdaptorServer({ fetch: app.fetch }) as Server;
  const wss = new WebSocketServer({ noServer: true, maxPayload: Limits.frameBytes });
  httpServer.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/sync') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = hocuspocus.handleConnection(ws, toRequest(req));
      ws.on('message', (data) => connection.handleMessage(bytes(data)));
      ws.on('close', (code, reason) => connection.handleClose({ code, reason: reason.toString() }));
      ws.on('error', (error) => log.warn('websocket error', { error }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    storage,
    hocuspocus,
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        for (const ws of wss.clients) ws.terminate();
        hocuspocus.closeConnections();
        await engine.close();
        await store.flush();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await httpClosed; // in-flight requests finish before storage goes
        await storage.close();
      })();
      return closing;
    },
  };
}
