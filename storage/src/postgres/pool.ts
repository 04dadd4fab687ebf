// A pg Pool configured for Outpost: BIGINT columns (times, sequence numbers, log positions)
// come back as JS numbers instead of strings, and a dropped idle connection is reported
// instead of crashing the process.
import pg from 'pg';

/** Options for {@link createPool}. */
export interface PoolOptions {
  /** Most connections this pool opens (pg's default is 10). */
  max?: number;
  /**
   * Called when an idle connection fails (the server restarted, the network dropped). The pool
   * has already discarded it; the next query opens a fresh one. Defaults to a console warning.
   */
  onIdleError?: (error: Error) => void;
}

/** Opens a pool on `connectionString` that parses BIGINT as number (ms times fit in 2^53). */
export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, 'text', parseBigint);
  const pool = new pg.Pool({ connectionString, types, ...(options.max === undefined ? {} : { max: options.max }) });
  const onIdleError = options.onIdleError ?? ((error: Error) => console.warn(`postgres: idle connection lost: ${error.message}`));
  pool.on('error', onIdleError);
  return pool;
}

function parseBigint(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} does not fit in a JS number`);
  return value;
}
