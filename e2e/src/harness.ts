// What the end-to-end tests share: real server nodes (in this process, or as child processes
// that can be killed with SIGKILL), a throwaway Postgres per test file, signed-up clients,
// eventual-consistency waits, and seeded randomness that prints how to replay a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutpostClient, type OutpostClientOptions } from '@outpost/client';
import { startPostgres, type PostgresServer } from '@outpost/storage/testing';
import { createLogger, loadConfig, startServer, type Logger, type OutpostServer } from '@outpost/sync-server';

export type Backend = 'sqlite' | 'postgres';
export const backends: readonly Backend[] = ['sqlite', 'postgres'];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanups: (() => Promise<void>)[] = [];
let postgres: Promise<PostgresServer> | undefined;

/** Stops everything the harness started; call from afterAll. */
export async function teardown(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  if (postgres) {
    const server = await postgres;
    postgres = undefined;
    await server.stop();
  }
}

/** A fresh, empty database for one test: a new Postgres database, or a new SQLite directory. */
export async function freshDatabase(backend: Backend): Promise<{ dataDir: string; databaseUrl?: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'outpost-e2e-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  if (backend === 'sqlite') return { dataDir };
  postgres ??= startPostgres();
  return { dataDir, databaseUrl: await (await postgres).createDatabase() };
}

export interface NodeOptions {
  dataDir: string;
  databaseUrl?: string;
  segmentSize?: number;
  port?: number;
  /** CORS_ORIGINS: origins allowed to call the API from a browser (closed when absent). */
  corsOrigins?: string;
  /** ACCESS_TOKEN_TTL in seconds (short ones make clients refresh often). */
  accessTokenTtl?: number;
  /** REDIS_URL: nodes that share it relay notices to each other. */
  redisUrl?: string;
  /** OUTPOST_SIGNING_KEY: nodes that share it accept each other's tokens. */
  signingKey?: string;
  /** Any other settings, e.g. short DATABASE_*_MS deadlines for fault tests. */
  env?: Record<string, string>;
  /** AUTH_ATTEMPTS_PER_ADDRESS: sign-ins and sign-ups per address per minute. */
  authAttemptsPerAddress?: number;
  /** The node's logger (in-process nodes only), e.g. to count what it refused. */
  log?: Logger;
}

function env(options: NodeOptions): Record<string, string> {
  return {
    PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    DATA_DIR: options.dataDir,
    LOG_LEVEL: process.env.OUTPOST_TEST_LOG ?? 'error',
    SEGMENT_SIZE: String(options.segmentSize ?? 1000),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.corsOrigins ? { CORS_ORIGINS: options.corsOrigins } : {}),
    ...(options.accessTokenTtl ? { ACCESS_TOKEN_TTL: String(options.accessTokenTtl) } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.signingKey ? { OUTPOST_SIGNING_KEY: options.signingKey } : {}),
    ...options.env,
    ...(options.authAttemptsPerAddress ? { AUTH_ATTEMPTS_PER_ADDRESS: String(options.authAttemptsPerAddress) } : {}),
  };
}

/** A server node in this process. */
export async function startNode(options: NodeOptions): Promise<OutpostServer> {
  const server = await startServer(loadConfig(env(options)), options.log);
  cleanups.push(() => server.close());
  return server;
}

/** A server node as a child process, to be killed like a crash would. */
export interface SpawnedNode {
  url: string;
  port: number;
  /** SIGKILL: no shutdown hooks, no flushing. */
  kill(): Promise<void>;
  /** SIGTERM: the node drains (finishes what is in flight, closes sockets with "restarting"). */
  stop(): Promise<void>;
  /** Starts it again on the same port and storage. */
  restart(): Promise<void>;
}

let spawnedNodes = 0;

/**
 * NODE_LOGS=dir keeps what each spawned node prints, across its restarts, in dir/node-<n>.log:
 * for reading what the nodes did in a seed that failed.
 */
function keepLogs(child: ChildProcess, node: number): void {
  const dir = process.env.NODE_LOGS;
  if (!dir) return;
  const file = createWriteStream(path.join(dir, `node-${node}.log`), { flags: 'a' });
  child.stdout?.pipe(file, { end: false });
  child.stderr?.pipe(file, { end: false });
  child.once('exit', (code, signal) => file.end(`--- exited: ${signal ?? code}\n`));
}

export async function spawnNode(options: NodeOptions): Promise<SpawnedNode> {
  let child: ChildProcess | undefined;
  let port = options.port ?? 0;
  const node = spawnedNodes++;
  const start = async () => {
    child = spawn(process.execPath, [path.join(repoRoot, 'sync-server/src/main.ts')], {
      env: { ...process.env, ...env({ ...options, port }), LOG_LEVEL: process.env.NODE_LOG_LEVEL ?? 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = child;
    keepLogs(started, node);
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const match = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
        if (match) resolve(Number(match[1]));
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      started.once('exit', (code) => reject(new Error(`node exited with ${code} before listening:\n${out}`)));
    });
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };
  await start();
  cleanups.push(kill);
  return {
    stop,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    kill,
    restart: start,
  };
}

let users = 0;

/** Extra client options (a WebSocket that records what the server says, for instance). */
type ClientOptions = Omit<OutpostClientOptions, 'url'>;

/** Signs up a new user (unique name) and returns their connected client. */
export async function signUp(url: string, name = 'user', options: ClientOptions = {}): Promise<OutpostClient> {
  users += 1;
  const client = await OutpostClient.register({ url, ...options }, { username: `${name}${users}-${process.pid}`, password: 'correct horse battery' });
  cleanups.push(async () => client.close());
  return client;
}

/** Signs the same user in again: a second device. */
export async function secondDevice(url: string, client: OutpostClient, options: ClientOptions = {}): Promise<OutpostClient> {
  const device = await OutpostClient.login({ url, ...options }, { username: client.user.username, password: 'correct horse battery' });
  cleanups.push(async () => device.close());
  return device;
}

/** A node on a fresh database (returned too) with ada and bob signed up and their DM opened. */
export async function twoPeople(backend: Backend, options: { segmentSize?: number } = {}) {
  const database = await freshDatabase(backend);
  const server = await startNode({ ...database, ...options });
  const ada = await signUp(server.url, 'ada');
  const bob = await signUp(server.url, 'bob');
  const id = await ada.openDirect(bob.user.id);
  return { server, database, ada, bob, id };
}

/**
 * Waits until `check` holds. Not a timed assertion: the limit is generous and only stops a
 * hung test; on failure it says what never became true, with the last observed state.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, describe: () => unknown = () => '', limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`never became true: ${what}\nlast state: ${JSON.stringify(await describe(), null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Watches `viewer`'s online contacts for `ms` while nothing else happens, then `who` leaves:
 * returns every value the list took meanwhile, and waits until `who` is shown offline.
 */
export async function onlineWhileIdle(viewer: OutpostClient, who: OutpostClient, ms: number): Promise<Set<string>> {
  await until('the viewer sees them online', () => viewer.online().get().includes(who.user.id as never), () => viewer.online().get());
  const seen = new Set<string>();
  const stop = viewer.online().subscribe((online) => seen.add(JSON.stringify(online)));
  await new Promise((resolve) => setTimeout(resolve, ms));
  stop();
  who.disconnect();
  await until('the viewer sees them go offline', () => !viewer.online().get().includes(who.user.id as never), () => viewer.online().get());
  return seen;
}

/** A small seeded PRNG (mulberry32), so a failing random test can be replayed. */
export function random(seed: number): { next(): number; int(n: number): number; pick<T>(items: readonly T[]): T; shuffle<T>(items: T[]): T[] } {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: (items) => items[int(items.length)] as (typeof items)[number],
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [items[i], items[j]] = [items[j] as (typeof items)[number], items[i] as (typeof items)[number]];
      }
      return items;
    },
  };
}

/** The seeds a randomized test runs: SEED=n replays one. */
export function seeds(defaults: number[]): number[] {
  return process.env.SEED ? [Number(process.env.SEED)] : defaults;
}

/** A node's logger, quiet, that keeps every refusal of an update it logs (honest work has none). */
export function refusalLog(refusals: string[]): Logger {
  const quiet = createLogger(process.env.OUTPOST_TEST_LOG === 'debug' ? 'debug' : 'error');
  return {
    ...quiet,
    warn: (msg, fields) => {
      if (msg === 'update refused' || msg === 'a held update was refused') refusals.push(`${msg}: ${JSON.stringify(fields)}`);
      quiet.warn(msg, fields);
    },
  };
}

/** Collects the process's unhandled rejections (with their stacks) until `stop()`. */
export function catchUnhandled(): { unhandled: string[]; stop(): void } {
  const unhandled: string[] = [];
  const listener = (reason: unknown) => void unhandled.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
  process.on('unhandledRejection', listener);
  return { unhandled, stop: () => void process.off('unhandledRejection', listener) };
}

/** Counts how often `client`'s socket reconnects after its first connection. */
export function countReconnects(client: OutpostClient): () => number {
  let connected = false;
  let reconnects = 0;
  client.status().subscribe((status) => {
    if (status === 'connected') connected = true;
    else if (connected && status === 'connecting') reconnects += 1;
  });
  return () => reconnects;
}
