// What the bench leaves behind, however it ends (done, failed, Ctrl-C): every child process is
// killed and every temporary data directory removed, so a generator or a server left running
// cannot skew the next run on shared cores.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const children = new Set<ChildProcess>();
const directories = new Set<string>();

process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** Tracks `child` until it exits. */
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Removes `directory` when the bench exits, unless `forget` says it was removed already. */
export function removeOnExit(directory: string): { forget(): void } {
  directories.add(directory);
  return { forget: () => directories.delete(directory) };
}

/** Waits for `child` to exit; SIGKILLs it after `timeoutMs`. Resolves true if it exited by itself. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(false);
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
