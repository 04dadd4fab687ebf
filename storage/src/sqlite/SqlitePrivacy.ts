// Export and erase on SQLite.
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import { ERASED_DISPLAY_NAME, ERASED_PASSWORD_HASH, erasedUsername, type AccountFacts, type Privacy, type SessionRecord } from '../Privacy.ts';
import { fileColumns, messageColumns, toFile, toMessage, type FileRow, type MessageRow } from '../rows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

interface SessionRow {
  id: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  live: number;
}

export class SqlitePrivacy implements Privacy {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async accountFacts(userId: UserId, now: number): Promise<AccountFacts | null> {
    return this.#sql.deferred(() => {
      const user = this.#sql.get<{ id: string; username: string; display_name: string; created_at: number; erased_at: number | null }>(
        'SELECT id, username, display_name, created_at, erased_at FROM users WHERE id = ?',
        userId,
      );
      if (!user) return null;
      const sessions = this.#sql.all<SessionRow>(
        `SELECT family_id AS id, min(created_at) AS created_at, max(coalesce(used_at, created_at)) AS last_used_at, max(expires_at) AS expires_at,
                max(CASE WHEN used_at IS NULL AND revoked_at IS NULL AND expires_at > ? THEN 1 ELSE 0 END) AS live
         FROM refresh_tokens WHERE user_id = ? GROUP BY family_id ORDER BY min(created_at)`,
        now, userId,
      );
      const messages = this.#sql.all<MessageRow>(`SELECT ${messageColumns} FROM messages WHERE author = ? ORDER BY conversation_id, seq`, userId);
      const files = this.#sql.all<FileRow>(`SELECT ${fileColumns} FROM files WHERE uploader = ? ORDER BY created_at`, userId);
      return {
        user: { id: user.id as UserId, username: user.username, displayName: user.display_name, createdAt: user.created_at, erasedAt: user.erased_at },
        sessions: sessions.map(toSession),
        messages: messages.map((row) => ({ ...toMessage(row), sentBody: row.deleted_at !== null ? '' : row.body })),
        files: files.map(toFile),
      };
    });
  }

  async eraseAccount(userId: UserId, now: number): Promise<{ sessions: string[] } | null> {
    return this.#sql.immediate(() => {
      const user = this.#sql.get<{ erased_at: number | null }>('SELECT erased_at FROM users WHERE id = ?', userId);
      if (!user) return null;
      const live = this.#sql.all<{ family_id: string }>(
        'SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?',
        userId, now,
      );
      this.#sql.run('UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL', now, userId);
      this.#sql.run(
        'UPDATE users SET username = ?, display_name = ?, password_hash = ?, erased_at = coalesce(erased_at, ?) WHERE id = ?',
        erasedUsername(userId), ERASED_DISPLAY_NAME, ERASED_PASSWORD_HASH, now, userId,
      );
      this.#sql.run('DELETE FROM files WHERE uploader = ?', userId);
      return { sessions: live.map((row) => row.family_id) };
    });
  }

  async erasedAt(userId: UserId): Promise<number | null> {
    return this.#sql.get<{ erased_at: number | null }>('SELECT erased_at FROM users WHERE id = ?', userId)?.erased_at ?? null;
  }

  async messagesWithText(userId: UserId): Promise<{ conversationId: ConversationId; id: MessageId; segment: number }[]> {
    return this.#sql
      .all<{ conversation_id: string; id: string; segment: number }>('SELECT conversation_id, id, segment FROM messages WHERE author = ? AND deleted_at IS NULL', userId)
      .map((row) => ({ conversationId: row.conversation_id as ConversationId, id: row.id as MessageId, segment: row.segment }));
  }
}

function toSession(row: SessionRow): SessionRecord {
  return { id: row.id, createdAt: row.created_at, lastUsedAt: row.last_used_at, expiresAt: row.expires_at, active: row.live === 1 };
}
