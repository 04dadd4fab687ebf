// A pg Pool configured for Outpost: BIGINT columns (times, sequence numbers, log positions)
// come back as JS numbers instead of strings, every wait on the database has a deadline, and a
// dropped idle connection is reported instead of crashing the process.
import pg from 'pg';

/** Deadlines on the database, in milliseconds; see {@link defaultPoolTimeouts}. */
export interface PoolTimeouts {
  /**
   * Longest wait for a connection: to open one (TCP and authentication), or for one to come
   * free when all `max` are busy.
   */
  connectTimeoutMs: number;
  /** Longest a statement may run, lock waits included, before Postgres cancels it (`statement_timeout`). */
  statementTimeoutMs: number;
  /**
   * Longest the driver waits for the answer to a query before it fails the query and drops the
   * connection (`query_timeout`): the deadline when the network, not the server, is silent,
   * which `statement_timeout` cannot catch. Defaults to `statementTimeoutMs` + 5 s, so that a
   * slow statement is cancelled by the server first.
   */
  queryTimeoutMs: number;
  /** A session idle inside an open transaction this long is ended by Postgres, freeing its locks. */
  idleInTransactionTimeoutMs: number;
  /** Silence after which TCP keepalive probes start, so a dead peer is noticed on idle connections. */
  keepAliveDelayMs: number;
}

/** Options for {@link createPool}. */
export interface PoolOptions extends Partial<PoolTimeouts> {
  /** Most connections this pool opens (pg's default is 10). */
  max?: number;
  /**
   * Called when an idle connection fails (the server restarted, the network dropped). The pool
   * has already discarded it; the next query opens a fresh one. Defaults to a console warning.
   */
  onIdleError?: (error: Error) => void;
}

/** The timeouts a pool gets when none are given; `queryTimeoutMs` follows `statementTimeoutMs`. */
export const defaultPoolTimeouts = {
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  queryTimeoutMs: 35_000,
  idleInTransactionTimeoutMs: 60_000,
  keepAliveDelayMs: 10_000,
} as const satisfies PoolTimeouts;

/** How much longer than the statement timeout the driver waits, unless told otherwise. */
const QUERY_TIMEOUT_MARGIN_MS = defaultPoolTimeouts.queryTimeoutMs - defaultPoolTimeouts.statementTimeoutMs;

/** Opens a pool on `connectionString` that parses BIGINT as number (ms times fit in 2^53). */
export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, 'text', parseBigint);
  const statementTimeoutMs = options.statementTimeoutMs ?? defaultPoolTimeouts.statementTimeoutMs;
  const pool = new pg.Pool({
    connectionString,
    types,
    ...(options.max === undefined ? {} : { max: options.max }),
    connectionTimeoutMillis: options.connectTimeoutMs ?? defaultPoolTimeouts.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: options.queryTimeoutMs ?? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? defaultPoolTimeouts.idleInTransactionTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveDelayMs ?? defaultPoolTimeouts.keepAliveDelayMs,
  });
  const onIdleError = options.onIdleError ?? ((error: Error) => console.warn(`postgres: idle connection lost: ${error.message}`));
  pool.on('error', onIdleError);
  return pool;
}

function parseBigint(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} does not fit in a JS number`);
  return value;
}
