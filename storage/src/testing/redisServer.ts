// Throwaway Redis servers for tests: a real redis-server on a free port, persisting nothing, that
// tests can stop, kill -9 and bring back on the same port to show the system survives losing it.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.ts';
import { startWatchdog, type Watchdog } from './watchdog.ts';

/**
 * A throwaway Redis server. stop(), kill() and restart() may repeat in any order; it always comes
 * back on the same port, and empty, since it persists nothing.
 */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** SIGTERM, as an orderly shutdown; resolves once it has exited and its files are deleted. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after stop() or kill(), or to bounce a running one). */
  restart(): Promise<void>;
  /** Deletes every key (FLUSHALL), for a clean slate between tests. */
  flushAll(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 20;

/**
 * Starts a fresh redis-server on 127.0.0.1 with persistence off (`--save '' --appendonly no`),
 * in a temp directory. Needs `redis-server`; throws, never skips, when it is missing.
 *
 * @example
 * const redis = await startRedis();
 * // … connect to redis.url; await redis.kill(); await redis.restart(); …
 * await redis.stop();
 */
export async function startRedis(): Promise<RedisServer> {
  const binary = await findBinary();
  const dir = await mkdtemp(join(tmpdir(), 'outpost-redis-'));
  const watchdog = startWatchdog(dir);
  const server = new ThrowawayRedis(binary, dir, watchdog);
  try {
    await server.start();
    return server;
  } catch (error) {
    watchdog.fire(); // kills whatever started and removes `dir`
    throw error;
  }
}

interface RunningProcess {
  child: ChildProcess;
  exited: Promise<void>;
  running: boolean;
}

class ThrowawayRedis implements RedisServer {
  readonly #binary: string;
  readonly #dir: string;
  readonly #watchdog: Watchdog;
  #port = 0;
  #process: RunningProcess | undefined;

  constructor(binary: string, dir: string, watchdog: Watchdog) {
    this.#binary = binary;
    this.#dir = dir;
    this.#watchdog = watchdog;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  /** First start: a free port, and another one if something takes it before redis binds it. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.#port = await freePort();
      try {
        await this.#launch();
        return;
      } catch (error) {
        if (!(error instanceof StartError && error.portTaken) || attempt >= START_ATTEMPTS) throw error;
      }
    }
  }

  async stop(): Promise<void> {
    await this.#terminate('SIGTERM');
    await rm(this.#dir, { recursive: true, force: true });
  }

  async kill(): Promise<void> {
    await this.#terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.#terminate('SIGTERM');
    await this.#launch();
  }

  async flushAll(): Promise<void> {
    const reply = await command(this.#port, ['FLUSHALL']);
    if (reply !== '+OK') throw new Error(`FLUSHALL on ${this.url} answered ${reply}`);
  }

  async #launch(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const logFile = join(this.#dir, 'redis.log');
    const log = await open(logFile, 'a');
    const logStart = (await log.stat()).size;
    let child: ChildProcess;
    try {
      child = spawn(
        this.#binary,
        [
          '--port', String(this.#port),
          '--bind', '127.0.0.1',
          '--save', '',
          '--appendonly', 'no',
          '--dir', this.#dir,
          '--loglevel', 'warning',
        ],
        // detached: its own process group, which the watchdog can kill by id.
        { cwd: this.#dir, stdio: ['ignore', log.fd, log.fd], detached: true },
      );
    } finally {
      await log.close();
    }
    const running: RunningProcess = { child, running: true, exited: Promise.resolve() };
    running.exited = new Promise<void>((resolve) => {
      const onGone = (): void => {
        running.running = false;
        resolve();
      };
      child.once('exit', onGone);
      child.once('error', onGone); // could not be spawned at all
    });
    child.unref();
    this.#process = running;
    if (child.pid !== undefined) this.#watchdog.watch(child.pid);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (!running.running) {
        const output = (await readFile(logFile, 'utf8')).slice(logStart);
        throw new StartError(`redis-server exited while starting (port ${this.#port}):\n${output.slice(-4000)}`, output);
      }
      try {
        if ((await command(this.#port, ['PING'])) === '+PONG') return;
      } catch (error) {
        lastError = error;
      }
      await delay(20);
    }
    await this.#terminate('SIGKILL');
    throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms: ${String(lastError)}`);
  }

  /** Sends `signal` and waits for the exit; SIGKILL if a SIGTERM is not obeyed in time. */
  async #terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const current = this.#process;
    if (!current?.running) return;
    current.child.kill(signal);
    const timer = setTimeout(() => current.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
    await current.exited;
    clearTimeout(timer);
    this.#watchdog.watch(0);
  }
}

/** A server that exited before answering, with what its log says about why. */
class StartError extends Error {
  readonly portTaken: boolean;

  constructor(message: string, log: string) {
    super(message);
    this.name = 'StartError';
    this.portTaken = /Address already in use/i.test(log);
  }
}

/**
 * Sends one command in RESP and returns the first line of the reply (`+PONG`, `+OK`, `-ERR …`):
 * enough for the simple replies this helper needs, without a client library.
 */
function command(port: number, args: readonly string[]): Promise<string> {
  const request = `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(COMMAND_TIMEOUT_MS, () => socket.destroy(new Error(`redis on port ${port} did not answer ${args[0]}`)));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      reply += chunk;
      const end = reply.indexOf('\r\n');
      if (end < 0) return;
      socket.end();
      resolve(reply.slice(0, end));
    });
    socket.on('close', () => reject(new Error(`redis on port ${port} closed the connection before answering ${args[0]}`)));
    socket.write(request);
  });
}

/** The first redis-server on PATH. */
async function findBinary(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, 'redis-server');
    if (await isExecutable(candidate)) return candidate;
  }
  throw new Error(
    'redis-server not found on PATH: ' +
      'install the Debian package redis-server (apt-get install -y redis-server) — .ci/run does this',
  );
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return false;
    throw error;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
