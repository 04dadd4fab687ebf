// Runs work on one pooled connection, optionally inside BEGIN … COMMIT, and never returns a
// connection in an unknown state to the pool.
import type pg from 'pg';

/**
 * Runs `work` on a connection of `pool`; a connection that saw an error is closed, not reused.
 * While it is checked out, the pool does not watch it: a connection lost then (the server
 * restarted, the network reset it) emits 'error' on the client, which would crash the process
 * unheard. Here it is heard; the statement in flight, or the next one, fails with it.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onLost = (error: Error): void => {
    lost = error;
  };
  client.on('error', onLost);
  let result: T;
  try {
    result = await work(client);
  } catch (error) {
    client.off('error', onLost);
    client.release(lost ?? (error instanceof Error ? error : true));
    throw error;
  }
  client.off('error', onLost);
  client.release(lost);
  return result;
}

/** Runs `work` between BEGIN and COMMIT on `client`, rolling back if it throws. */
export async function transaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  let result: T;
  try {
    result = await work();
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      throw new AggregateError([error, rollbackError], 'a transaction failed and could not be rolled back', { cause: rollbackError });
    }
    throw error;
  }
  await client.query('COMMIT');
  return result;
}

/** Runs `work` in a transaction on a connection of its own. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, (client) => transaction(client, () => work(client)));
}
