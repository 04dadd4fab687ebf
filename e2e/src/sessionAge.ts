// Sessions as a device finds them after weeks out of reach, for the tests of what happens then.
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SQLITE_FILE } from '@outpost/storage';

/** An access token whose `exp` is long past (a client reads only its claims before using it). */
export const EXPIRED_ACCESS = `x.${btoa(JSON.stringify({ exp: 1, iat: 0 }))}.x`;

/** What the node's database holds after 30 days: every refresh token of `userId` past its expiry. */
export async function expireRefreshTokens(database: { dataDir: string; databaseUrl?: string }, userId: string): Promise<void> {
  if (database.databaseUrl) {
    const client = new pg.Client({ connectionString: database.databaseUrl });
    await client.connect();
    await client.query('UPDATE refresh_tokens SET expires_at = 1 WHERE user_id = $1', [userId]);
    await client.end();
    return;
  }
  const sqlite = new Database(path.join(database.dataDir, SQLITE_FILE));
  sqlite.prepare('UPDATE refresh_tokens SET expires_at = 1 WHERE user_id = ?').run(userId);
  sqlite.close();
}
