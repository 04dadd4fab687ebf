// Throwaway Postgres servers for tests: a real server process in a temp directory, on a free
// port, that tests can kill -9 and restart to prove durability, and that never outlives them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chown, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './freePort.ts';
import { startWatchdog, type Watchdog } from './watchdog.ts';

/**
 * A running throwaway server. shutDown(), kill() and restart() may repeat in any order, and keep
 * its data and port; stop() is final.
 */
export interface PostgresServer {
  /** URL of the database `outpost` on this server. */
  readonly url: string;
  /** Creates another empty database on this server and returns its URL. */
  createDatabase(): Promise<string>;
  /** Shuts the server down and deletes all its files. */
  stop(): Promise<void>;
  /** Shuts the server down cleanly (fast shutdown: clients are disconnected). Files and port stay for restart(). */
  shutDown(): Promise<void>;
  /** SIGKILLs the server and all its backends at once, as a crash would. Files stay. */
  kill(): Promise<void>;
  /** Starts the server again on the same directory and port (after shutDown() or kill(), or to bounce it). */
  restart(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 20;

const execFileAsync = promisify(execFile);

/**
 * Starts a fresh Postgres server (initdb into a temp directory, trust auth, fsync off) and
 * creates the database `outpost`. Needs the Postgres server binaries; throws, never skips,
 * when they are missing. As root it runs the server as the `postgres` OS user.
 *
 * @example
 * const server = await startPostgres();
 * const storage = new PostgresStorage(server.url);
 * // …
 * await storage.close();
 * await server.stop();
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const binaries = await findBinaries();
  const user = await serverUser();
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'outpost-pg-'));
  const watchdog = startWatchdog(dir);
  try {
    if (user) await chown(dir, user.uid, user.gid);
    const server = new ThrowawayServer(binaries, user, dir, watchdog, options.settings ?? {});
    await server.init();
    return server;
  } catch (error) {
    watchdog.fire(); // kills whatever started and removes `dir`
    throw error;
  }
}

/** What {@link startPostgres} may change about the server. */
export interface PostgresOptions {
  /**
   * More server settings, passed as `-c name=value` (e.g. `shared_preload_libraries:
   * 'pg_stat_statements'` for the load bench's per-statement counts).
   */
  settings?: Record<string, string>;
  /** Where the server's directory is made (the system's temp directory by default), e.g. on a small disk that a test fills. */
  parentDir?: string;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

interface OsUser {
  uid: number;
  gid: number;
}

class ThrowawayServer implements PostgresServer {
  readonly #binaries: Binaries;
  readonly #user: OsUser | undefined;
  readonly #dir: string;
  readonly #watchdog: Watchdog;
  readonly #settings: Record<string, string>;
  #port = 0;
  #process: { child: ChildProcess; exited: Promise<void>; running: boolean } | undefined;
  #stopped = false;
  #databases = 0;

  constructor(binaries: Binaries, user: OsUser | undefined, dir: string, watchdog: Watchdog, settings: Record<string, string>) {
    this.#binaries = binaries;
    this.#user = user;
    this.#dir = dir;
    this.#watchdog = watchdog;
    this.#settings = settings;
  }

  get url(): string {
    return this.#urlOf('outpost');
  }

  async init(): Promise<void> {
    try {
      await execFileAsync(
        this.#binaries.initdb,
        ['-D', this.#dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'],
        this.#spawnOptions(),
      );
    } catch (error) {
      const output = error instanceof Error && 'stderr' in error ? String(error.stderr) : '';
      throw new Error(`initdb failed in ${this.#dir}: ${output || String(error)}`, { cause: error });
    }
    for (let attempt = 1; ; attempt++) {
      this.#port = await freePort();
      try {
        await this.#launch();
        break;
      } catch (error) {
        // Another process may take the port between freePort() and the server's bind.
        if (!(error instanceof StartError && error.portTaken) || attempt >= START_ATTEMPTS) throw error;
      }
    }
    await this.#admin((client) => client.query('CREATE DATABASE outpost'));
  }

  async createDatabase(): Promise<string> {
    this.#databases += 1;
    const name = `outpost_${this.#databases}`;
    await this.#admin((client) => client.query(`CREATE DATABASE ${name}`));
    return this.#urlOf(name);
  }

  /** Fast shutdown (SIGINT); SIGKILL if it does not finish in time. */
  async shutDown(): Promise<void> {
    const current = this.#process;
    if (!current?.running) return;
    current.child.kill('SIGINT');
    const timeout = delay(SHUTDOWN_TIMEOUT_MS).then(() => 'timeout' as const);
    if ((await Promise.race([current.exited, timeout])) === 'timeout') {
      await crash(current.child);
      await current.exited;
    }
  }

  async kill(): Promise<void> {
    const current = this.#process;
    if (!current?.running) return;
    await crash(current.child);
    await current.exited;
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error('this Postgres server was stopped; start a new one');
    await this.shutDown();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#launch();
        return;
      } catch (error) {
        // Backends of a killed server can take a moment to die and release shared memory.
        if (!(error instanceof StartError && error.stillInUse) || attempt >= START_ATTEMPTS) throw error;
        await delay(100 * attempt);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.shutDown();
    await rm(this.#dir, { recursive: true, force: true });
    this.#watchdog.done();
  }

  get #dataDir(): string {
    return join(this.#dir, 'data');
  }

  get #logFile(): string {
    return join(this.#dir, 'server.log');
  }

  #urlOf(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.#port}/${database}`;
  }

  #spawnOptions(): { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number } {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.#dir };
    return { cwd: this.#dir, env, ...(this.#user ?? {}) };
  }

  async #launch(): Promise<void> {
    const log = await open(this.#logFile, 'a');
    const logStart = (await log.stat()).size;
    let child: ChildProcess;
    try {
      child = spawn(
        this.#binaries.postgres,
        [
          '-D', this.#dataDir,
          '-p', String(this.#port),
          '-k', this.#dir,
          '-c', 'listen_addresses=127.0.0.1',
          '-c', 'fsync=off',
          '-c', 'max_connections=200',
          ...Object.entries(this.#settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
        ],
        // detached: its own process group, which the watchdog can kill by id.
        { ...this.#spawnOptions(), stdio: ['ignore', log.fd, log.fd], detached: true },
      );
    } finally {
      await log.close();
    }
    const server = { child, running: true, exited: Promise.resolve() };
    server.exited = new Promise<void>((resolve) => {
      const onGone = (): void => {
        server.running = false;
        resolve();
      };
      child.once('exit', onGone);
      child.once('error', onGone); // could not be spawned at all
    });
    child.unref();
    this.#process = server;
    if (child.pid !== undefined) this.#watchdog.watch(child.pid);
    await this.#waitUntilReady(server, logStart);
  }

  async #waitUntilReady(server: { running: boolean }, logStart: number): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (!server.running) {
        const log = (await readFile(this.#logFile, 'utf8')).slice(logStart);
        throw new StartError(`Postgres exited while starting (port ${this.#port}):\n${log.slice(-4000)}`, log);
      }
      const client = this.#client('postgres');
      client.on('error', (error) => {
        lastError = error;
      });
      try {
        await client.connect();
      } catch (error) {
        lastError = error;
        await delay(50);
        continue;
      }
      await client.end();
      return;
    }
    if (this.#process?.running) await crash(this.#process.child);
    throw new Error(`Postgres did not accept connections within ${READY_TIMEOUT_MS} ms: ${String(lastError)}`);
  }

  #client(database: string): pg.Client {
    return new pg.Client({ host: '127.0.0.1', port: this.#port, user: 'postgres', database, connectionTimeoutMillis: 2_000 });
  }

  async #admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = this.#client('postgres');
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

/** A server that exited before accepting connections, with what its log says about why. */
class StartError extends Error {
  readonly portTaken: boolean;
  readonly stillInUse: boolean;

  constructor(message: string, log: string) {
    super(message);
    this.name = 'StartError';
    this.portTaken = /could not bind|Address already in use/i.test(log);
    this.stillInUse = /pre-existing shared memory block|postmaster\.pid.*already exists|lock file .* already exists/i.test(log);
  }
}

/** The newest Postgres under /usr/lib/postgresql, else the first `postgres`+`initdb` on PATH. */
async function findBinaries(): Promise<Binaries> {
  const candidates: string[] = [];
  try {
    const versions = await readdir('/usr/lib/postgresql');
    versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    candidates.push(...versions.map((version) => join('/usr/lib/postgresql', version, 'bin')));
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
  }
  candidates.push(...(process.env.PATH ?? '').split(':').filter(Boolean));
  for (const dir of candidates) {
    const binaries = { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') };
    if ((await isExecutable(binaries.initdb)) && (await isExecutable(binaries.postgres))) return binaries;
  }
  throw new Error(
    'Postgres binaries not found (looked in /usr/lib/postgresql/*/bin and PATH): ' +
      'install postgresql (apt-get install -y postgresql) — .ci/run does this',
  );
}

/** initdb and postgres refuse to run as root; as root, run them as the `postgres` OS user. */
async function serverUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'postgres' && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error('running as root, but there is no "postgres" OS user to run Postgres as (useradd -r postgres)');
}

/**
 * Kills the postmaster and every backend at the same instant, as a power cut would. Backends
 * make themselves session leaders, so killing the postmaster's process group is not enough:
 * left alone they would notice its death only later, and could still commit meanwhile.
 */
async function crash(postmaster: ChildProcess): Promise<void> {
  const pid = postmaster.pid;
  if (pid === undefined) return;
  signal(pid, 'SIGSTOP'); // a stopped postmaster cannot fork a new backend while we look
  const backends = await childrenOf(pid);
  for (const target of [...backends, pid]) signal(target, 'SIGKILL');
  // Wait until they are gone (or zombies), so a restart finds their shared memory released.
  const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
  for (const backend of backends) {
    while (await isAlive(backend)) {
      if (Date.now() > deadline) throw new Error(`Postgres backend ${backend} survived SIGKILL`);
      await delay(10);
    }
  }
}

/** Child pids of `parent`, from /proc (Linux). Empty where /proc does not exist. */
async function childrenOf(parent: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return [];
    throw error;
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = await procStat(Number(entry));
    if (stat?.ppid === parent) children.push(Number(entry));
  }
  return children;
}

/** State and parent of a process from /proc/<pid>/stat, or undefined once it has vanished. */
async function procStat(pid: number): Promise<{ state: string; ppid: number } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ESRCH')) return undefined;
    throw error;
  }
  // "pid (comm) state ppid …"; comm may contain spaces and parentheses, so split after the last ')'.
  const [state = '', ppid = ''] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state, ppid: Number(ppid) };
}

async function isAlive(pid: number): Promise<boolean> {
  const stat = await procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (!isCode(error, 'ESRCH')) throw error; // ESRCH: already gone
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'EACCES') || isCode(error, 'ENOTDIR')) return false;
    throw error;
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
