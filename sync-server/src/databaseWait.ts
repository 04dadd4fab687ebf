// A node that starts while Postgres is away (restarting after a crash, still starting up, a
// network that has not come back yet) waits for it, saying so, instead of dying at once: a whole
// site restarting after a power cut starts the nodes and the database in no particular order.
// Only errors that mean "nobody answers yet" are waited out; a wrong password or a database that
// does not exist ends the start at once, with what to do.
import { setTimeout as delay } from 'node:timers/promises';
import type { Storage, StorageOptions } from '@outpost/storage';
import type { Logger } from './log.ts';

/** Codes of a connection that nobody answers (yet): the network's, and Postgres's "starting up" or "shutting down". */
const AWAY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE', '57P01', '57P03']);
/** pg's own errors for a connection that did not open or was dropped, which carry no code. */
const AWAY_MESSAGES = /timeout exceeded when trying to connect|connection timeout|Connection terminated/i;

/** True when `error` means the database did not answer, as opposed to answering "no". */
export function databaseAway(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && AWAY_CODES.has(code)) || (typeof message === 'string' && AWAY_MESSAGES.test(message));
}

/** The start gave up: the database never answered within the wait. */
export class DatabaseUnreachableError extends Error {
  readonly where: string;
  readonly waitedMs: number;

  constructor(where: string, waitedMs: number, options: { cause: unknown }) {
    super(`the database at ${where} did not answer for ${Math.round(waitedMs / 1000)} s (${reasonOf(options.cause)})`, options);
    this.name = 'DatabaseUnreachableError';
    this.where = where;
    this.waitedMs = waitedMs;
  }
}

/** What a person can do about a database that refused the node at its start; null when it is not one of those. */
export function databaseAdvice(error: unknown, databaseUrl: string | undefined): string | null {
  if (error instanceof DatabaseUnreachableError) {
    return `${error.message}: check DATABASE_URL, that Postgres runs and accepts connections from this machine, or wait longer with DATABASE_START_WAIT_MS`;
  }
  if (!databaseUrl) return null;
  const code = (error as { code?: unknown } | null)?.code;
  const where = hostOf(databaseUrl);
  if (code === '28P01' || code === '28000') return `the database at ${where} refused the user or password in DATABASE_URL: correct them (or the server's pg_hba.conf)`;
  if (code === '3D000') return `the database named in DATABASE_URL does not exist at ${where}: create it (createdb …) or correct the URL`;
  if (code === 'ENOTFOUND') return `the database host in DATABASE_URL (${where}) has no address: correct the host name`;
  return null;
}

/**
 * Opens storage with `open`, trying again while the database does not answer, for at most
 * `waitMs` (0: not at all). Each failed try is logged with when the next one comes.
 */
export async function openWhenReachable(
  open: (options: StorageOptions) => Promise<Storage>,
  options: StorageOptions,
  log: Logger,
  waitMs: number,
): Promise<Storage> {
  const started = Date.now();
  let pauseMs = 250;
  for (;;) {
    try {
      return await open(options);
    } catch (error) {
      const waited = Date.now() - started;
      if (!options.databaseUrl || !databaseAway(error)) throw error;
      if (waited + pauseMs > waitMs) throw new DatabaseUnreachableError(hostOf(options.databaseUrl), waited, { cause: error });
      log.warn('the database does not answer yet; the node waits for it before it listens', {
        database: hostOf(options.databaseUrl),
        reason: reasonOf(error),
        retryInMs: pauseMs,
        givesUpInMs: waitMs - waited,
      });
      await delay(pauseMs);
      pauseMs = Math.min(pauseMs * 2, 5_000);
    }
  }
}

/** host:port of a database URL, never its user or password. */
function hostOf(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}`;
  } catch {
    return 'DATABASE_URL';
  }
}

function reasonOf(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return typeof code === 'string' ? code : typeof message === 'string' ? message : String(error);
}
