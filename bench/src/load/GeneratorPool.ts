// The orchestrator's handle on its load generator processes: forks them, sends each a command and
// waits for every answer, each call with a deadline so an overloaded run cannot hang the bench.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, track } from './cleanup.ts';
import type { Command, Request, Response } from './commands.ts';

const generatorScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'generator.ts');

export class GeneratorPool {
  readonly #children: ChildProcess[];
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  constructor(count: number) {
    this.#children = Array.from({ length: count }, (_, i) => {
      const child = track(fork(generatorScript, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      child.on('message', (response: Response) => {
        const waiter = this.#waiting.get(response.id);
        if (!waiter) return;
        this.#waiting.delete(response.id);
        if (response.ok) waiter.resolve(response.result);
        else waiter.reject(new Error(`generator ${i}: ${response.error}`));
      });
      child.once('exit', (code, signal) => {
        for (const [id, waiter] of this.#waiting) {
          this.#waiting.delete(id);
          waiter.reject(new Error(`generator ${i} exited (${code ?? signal})`));
        }
      });
      return child;
    });
  }

  get size(): number {
    return this.#children.length;
  }

  /** Sends `command(i)` to generator i, for all i; resolves with every answer, in order. */
  call<T>(command: (generator: number) => Command, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.#children.map((child, i) => this.#ask<T>(child, command(i), timeoutMs)));
  }

  #ask<T>(child: ChildProcess, command: Command, timeoutMs: number): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`a generator did not answer '${command.type}' within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ id, command } satisfies Request);
    });
  }

  /** Asks every generator to close its clients and exit; kills those that do not within 10 s. */
  async close(): Promise<void> {
    for (const child of this.#children) {
      if (child.connected) child.send({ id: this.#nextId++, command: { type: 'close' } } satisfies Request);
    }
    await Promise.all(this.#children.map((child) => exited(child, 10_000)));
  }
}
