// Throwaway servers must never outlive the tests that started them, even when the test process
// itself is killed: a small watchdog process cleans up after it.
import { spawn } from 'node:child_process';

/** Cleans up after a throwaway server if the test process dies before doing it itself. */
export interface Watchdog {
  /** The server now runs as process group `pid` (detached); 0 when none runs. */
  watch(pid: number): void;
  /** Everything is cleaned up: the watchdog stands down. */
  done(): void;
  /** Cleans up now: kills the process group it watches and deletes the directory. */
  fire(): void;
}

/**
 * Starts a watchdog for `dir`: a small process that, when our end of its stdin closes (the test
 * process exited or crashed) without `done()`, SIGKILLs the last process group it was told
 * about and deletes `dir`.
 */
export function startWatchdog(dir: string): Watchdog {
  const script = `
    const dir = process.argv[1];
    let pid = 0, done = false, pending = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\\n');
      pending = lines.pop();
      for (const line of lines) {
        if (line === 'done') done = true;
        else pid = Number(line);
      }
    });
    process.stdin.on('end', () => {
      if (done) return;
      if (pid > 0) {
        try { process.kill(-pid, 'SIGKILL'); } catch (error) { if (error.code !== 'ESRCH') throw error; }
      }
      require('node:fs').rmSync(dir, { recursive: true, force: true });
    });`;
  const watchdog = spawn(process.execPath, ['-e', script, dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watchdog.unref();
  // The pipe must not keep a finished test process alive; its closing is the signal.
  const stdin = watchdog.stdin as (typeof watchdog.stdin & { unref?: () => void }) | null;
  stdin?.unref?.();
  return {
    watch: (pid) => stdin?.write(`${pid}\n`),
    done: () => stdin?.end('done\n'),
    fire: () => stdin?.end(),
  };
}
