// Export and erase on Postgres.
import type pg from 'pg';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { ERASED_DISPLAY_NAME, ERASED_PASSWORD_HASH, erasedUsername, type AccountFacts, type Privacy, type SessionRecord } from '../Privacy.ts';
import { fileColumns, messageColumns, toFile, toMessage, type FileRow, type MessageRow } from '../rows.ts';
import { all, one } from './query.ts';
import { inTransaction } from './transaction.ts';

interface SessionRow {
  id: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  live: boolean;
}

export class PostgresPrivacy implements Privacy {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async accountFacts(userId: UserId, now: number): Promise<AccountFacts | null> {
    return inTransaction(this.#pool, async (client) => {
      const user = await one<{ id: string; username: string; display_name: string; created_at: number; erased_at: number | null }>(
        client, 'SELECT id, username, display_name, created_at, erased_at FROM users WHERE id = $1', [userId],
      );
      if (!user) return null;
      const sessions = await all<SessionRow>(
        client,
        `SELECT family_id AS id, min(created_at) AS created_at, max(coalesce(used_at, created_at)) AS last_used_at, max(expires_at) AS expires_at,
                bool_or(used_at IS NULL AND revoked_at IS NULL AND expires_at > $1) AS live
         FROM refresh_tokens WHERE user_id = $2 GROUP BY family_id ORDER BY min(created_at)`,
        [now, userId],
      );
      const messages = await all<MessageRow>(client, `SELECT ${messageColumns} FROM messages WHERE author = $1 ORDER BY conversation_id COLLATE "C", seq`, [userId]);
      const files = await all<FileRow>(client, `SELECT ${fileColumns} FROM files WHERE uploader = $1 ORDER BY created_at`, [userId]);
      return {
        user: { id: user.id as UserId, username: user.username, displayName: user.display_name, createdAt: user.created_at, erasedAt: user.erased_at },
        sessions: sessions.map(toSession),
        messages: messages.map((row) => ({ ...toMessage(row), sentBody: row.deleted_at !== null ? '' : row.body })),
        files: files.map(toFile),
      };
    });
  }

  async eraseAccount(userId: UserId, now: number): Promise<{ sessions: string[] } | null> {
    return inTransaction(this.#pool, async (client) => {
      const user = await one<{ id: string }>(client, 'SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
      if (!user) return null;
      const live = await all<{ family_id: string }>(
        client,
        'SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2',
        [userId, now],
      );
      await client.query('UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL', [now, userId]);
      await client.query('UPDATE users SET username = $1, display_name = $2, password_hash = $3, erased_at = coalesce(erased_at, $4) WHERE id = $5', [
        erasedUsername(userId), ERASED_DISPLAY_NAME, ERASED_PASSWORD_HASH, now, userId,
      ]);
      await client.query('DELETE FROM files WHERE uploader = $1', [userId]);
      return { sessions: live.map((row) => row.family_id) };
    });
  }

  async erasedAt(userId: UserId): Promise<number | null> {
    return (await one<{ erased_at: number | null }>(this.#pool, 'SELECT erased_at FROM users WHERE id = $1', [userId]))?.erased_at ?? null;
  }

  async messagesWithText(userId: UserId): Promise<{ conversationId: ConversationId; id: MessageId; segment: number }[]> {
    const rows = await all<{ conversation_id: string; id: string; segment: number }>(
      this.#pool, 'SELECT conversation_id, id, segment FROM messages WHERE author = $1 AND deleted_at IS NULL', [userId],
    );
    return rows.map((row) => ({ conversationId: row.conversation_id as ConversationId, id: row.id as MessageId, segment: row.segment }));
  }
}

function toSession(row: SessionRow): SessionRecord {
  return { id: row.id, createdAt: row.created_at, lastUsedAt: row.last_used_at, expiresAt: row.expires_at, active: row.live };
}
