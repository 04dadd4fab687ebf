// The three shapes of result the Postgres storage reads (all rows, one row, a count), on a pool
// or on a connection inside a transaction alike.
import type pg from 'pg';

/** A pool, or one connection taken from it (for work inside a transaction). */
export type Queryable = pg.Pool | pg.PoolClient;

/** Every row of a query. */
export async function all<T extends pg.QueryResultRow>(client: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  return (await client.query<T>(sql, params)).rows;
}

/** The first row of a query, if any. */
export async function one<T extends pg.QueryResultRow>(client: Queryable, sql: string, params: unknown[]): Promise<T | undefined> {
  return (await client.query<T>(sql, params)).rows[0];
}

/** The column `n` of a query's first row (BIGINT parsed as number; see pool.ts), 0 if none. */
export async function count(client: Queryable, sql: string, params: unknown[]): Promise<number> {
  return (await one<{ n: number }>(client, sql, params))?.n ?? 0;
}
