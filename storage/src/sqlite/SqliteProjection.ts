// The message read model and read positions on SQLite.
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import type { MessageRecord, MessageState, NumberedMessage, Projection } from '../Projection.ts';
import { messageColumns, numberedColumns, toMessage, toNumbered, type MessageRow, type NumberedRow } from '../rows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

export class SqliteProjection implements Projection {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async getMessage(conversationId: ConversationId, messageId: MessageId): Promise<MessageRecord | null> {
    const row = this.#sql.get<MessageRow>(`SELECT ${messageColumns} FROM messages WHERE conversation_id = ? AND id = ?`, conversationId, messageId);
    return row ? toMessage(row) : null;
  }

  async listSegmentNumbers(conversationId: ConversationId, segment: number): Promise<NumberedMessage[]> {
    const rows = this.#sql.all<NumberedRow>(
      `SELECT ${numberedColumns} FROM messages WHERE conversation_id = ? AND segment = ? ORDER BY seq`,
      conversationId, segment,
    );
    return rows.map(toNumbered);
  }

  async listMessages(conversationId: ConversationId, afterSeq: number, limit: number): Promise<MessageRecord[]> {
    const rows = this.#sql.all<MessageRow>(
      `SELECT ${messageColumns} FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      conversationId, afterSeq, limit,
    );
    return rows.map(toMessage);
  }

  async applyMessageStates(states: readonly MessageState[]): Promise<void> {
    if (states.length === 0) return;
    this.#sql.immediate(() => {
      for (const state of states) {
        if (state.deletedAt !== null) {
          // Deletion is real: the text goes from the read model too.
          this.#sql.run(
            `UPDATE messages SET body = '', edited_body = NULL, edited_at = NULL, deleted_at = coalesce(deleted_at, ?)
             WHERE conversation_id = ? AND id = ?`,
            state.deletedAt, state.conversationId, state.id,
          );
          this.#sql.run('DELETE FROM files WHERE conversation_id = ? AND message_id = ?', state.conversationId, state.id);
        } else {
          this.#sql.run(
            'UPDATE messages SET edited_body = ?, edited_at = ? WHERE conversation_id = ? AND id = ? AND deleted_at IS NULL',
            state.edit?.body ?? null, state.edit?.editedAt ?? null, state.conversationId, state.id,
          );
        }
      }
    });
  }

  async getReadPositions(conversationId: ConversationId): Promise<Map<UserId, number>> {
    const rows = this.#sql.all<{ user_id: string; seq: number }>('SELECT user_id, seq FROM read_positions WHERE conversation_id = ?', conversationId);
    return new Map(rows.map((row) => [row.user_id as UserId, row.seq]));
  }
}
