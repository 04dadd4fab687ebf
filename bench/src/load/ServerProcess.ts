// A server under test as a child process: started on a free port, ready when GET /health answers,
// measured from outside through /proc (CPU time, resident memory), stopped with SIGTERM and, if it
// does not exit in time, SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, track } from './cleanup.ts';
import type { ServerKind } from './servers.ts';

/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat; 100 on every common kernel. */
const CLOCK_TICKS = 100;
const START_TIMEOUT_MS = 60_000;
const OUTPUT_KEPT = 20_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export class ServerProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  #output = '';

  private constructor(child: ChildProcess, url: string) {
    this.#child = child;
    this.url = url;
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-OUTPUT_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** `env`: more settings on top of the kind's own (a shared DATABASE_URL and REDIS_URL for nodes of one cluster). */
  static async start(kind: ServerKind, dataDir: string, options: { segmentSize: number | null }, env: Record<string, string> = {}): Promise<ServerProcess> {
    const port = await freePort();
    const child = track(
      spawn(process.execPath, [...profiled(), kind.script], {
        env: { ...process.env, ...kind.env(dataDir, options), ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${kind.label} exited (${child.exitCode ?? child.signalCode}) before it answered /health:\n${server.output()}`);
      }
      try {
        const response = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) return server;
      } catch {
        // Not listening yet: try again until the deadline.
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${kind.label} did not answer /health within ${START_TIMEOUT_MS / 1000} s:\n${server.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Throws, with the server's last output, when it is no longer running. */
  assertRunning(): void {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) return;
    throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) during the run; its last output:\n${this.#output.slice(-2_000)}`);
  }

  /** CPU time (user + system) the server has used so far, in ms. */
  cpuMs(): number {
    this.assertRunning();
    const stat = readFileSync(`/proc/${this.#child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  }

  /** Resident memory now, in bytes. */
  rssBytes(): number {
    this.assertRunning();
    const status = readFileSync(`/proc/${this.#child.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return Number(kb) * 1024;
  }

  /** The last lines the server wrote (for diagnostics). */
  output(): string {
    return this.#output;
  }

  /**
   * With HEAP_SNAPSHOT set: has the server write a heap snapshot (after a full collection) into
   * that directory, and resolves with its path once it is written. Without it: null.
   */
  async heapSnapshot(): Promise<string | null> {
    const dir = process.env.HEAP_SNAPSHOT;
    if (!dir) return null;
    const written = () => readdirSync(dir).filter((file) => file.endsWith('.heapsnapshot') && file.includes(`.${this.#child.pid}.`));
    const before = written().length;
    this.#child.kill('SIGUSR2');
    // The file appears when writing starts; it is complete once its size stops changing.
    let size = -1;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const files = written();
      if (files.length <= before) continue;
      const file = join(dir, files.sort().at(-1) as string);
      const now = statSync(file).size;
      if (now === size && now > 0) return file;
      size = now;
    }
  }

  /**
   * With ALLOC_PROF set: starts the server's sampling of what its main thread allocates
   * (load/allocationSampler.ts). Without it: nothing.
   */
  startAllocationSampling(): void {
    if (process.env.ALLOC_PROF) this.#child.kill('SIGUSR2');
  }

  /** Stops what startAllocationSampling started; resolves with the profile's path once written, or null without ALLOC_PROF. */
  async stopAllocationSampling(): Promise<string | null> {
    const dir = process.env.ALLOC_PROF;
    if (!dir) return null;
    const file = join(dir, `alloc.${this.#child.pid}.heapprofile`);
    rmSync(file, { force: true });
    this.#child.kill('SIGUSR2');
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`no allocation profile ${file} within ${START_TIMEOUT_MS / 1000} s:\n${this.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return file;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves true when the server exited by itself. */
  stop(timeoutMs: number): Promise<boolean> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    return exited(this.#child, timeoutMs);
  }
}

/**
 * Node's flags for a CPU profile of the server when CPU_PROF names a directory, for heap
 * snapshots on demand (`heapSnapshot`) when HEAP_SNAPSHOT does, and for sampling what it
 * allocates (`startAllocationSampling`) when ALLOC_PROF does (`npm run bench`'s docs).
 */
function profiled(): string[] {
  const cpu = process.env.CPU_PROF;
  const heap = process.env.HEAP_SNAPSHOT;
  const allocations = process.env.ALLOC_PROF;
  if (heap && allocations) throw new Error('HEAP_SNAPSHOT and ALLOC_PROF both signal the server with SIGUSR2: set one of them');
  return [
    ...(cpu ? ['--cpu-prof', `--cpu-prof-dir=${cpu}`] : []),
    ...(heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heap}`] : []),
    ...(allocations ? ['--import', fileURLToPath(new URL('./allocationSampler.ts', import.meta.url))] : []),
  ];
}
