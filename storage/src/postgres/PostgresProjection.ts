// The message read model and read positions on Postgres.
import type pg from 'pg';
import type { ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import type { MessageRecord, MessageState, NumberedMessage, Projection } from '../Projection.ts';
import { messageColumns, numberedColumns, toMessage, toNumbered, type MessageRow, type NumberedRow } from '../rows.ts';
import { all, one } from './query.ts';
import { inTransaction } from './transaction.ts';

export class PostgresProjection implements Projection {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async getMessage(conversationId: ConversationId, messageId: MessageId): Promise<MessageRecord | null> {
    const row = await one<MessageRow>(this.#pool, `SELECT ${messageColumns} FROM messages WHERE conversation_id = $1 AND id = $2`, [conversationId, messageId]);
    return row ? toMessage(row) : null;
  }

  async listSegmentNumbers(conversationId: ConversationId, segment: number): Promise<NumberedMessage[]> {
    const rows = await all<NumberedRow>(
      this.#pool,
      `SELECT ${numberedColumns} FROM messages WHERE conversation_id = $1 AND segment = $2 ORDER BY seq`,
      [conversationId, segment],
    );
    return rows.map(toNumbered);
  }

  async listMessages(conversationId: ConversationId, afterSeq: number, limit: number): Promise<MessageRecord[]> {
    const rows = await all<MessageRow>(
      this.#pool,
      `SELECT ${messageColumns} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [conversationId, afterSeq, limit],
    );
    return rows.map(toMessage);
  }

  async applyMessageStates(given: readonly MessageState[]): Promise<void> {
    if (given.length === 0) return;
    const states = lastStates(given);
    const deletions = states.filter((s) => s.deletedAt !== null);
    // One statement per table for the batch. Deletion is real: the text goes from the read model
    // too, and the message's files with it, in the same transaction.
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        `UPDATE messages AS m SET
           body        = CASE WHEN s.deleted_at IS NOT NULL THEN '' ELSE m.body END,
           edited_body = CASE WHEN s.deleted_at IS NOT NULL THEN NULL ELSE s.edited_body END,
           edited_at   = CASE WHEN s.deleted_at IS NOT NULL THEN NULL ELSE s.edited_at END,
           deleted_at  = coalesce(m.deleted_at, s.deleted_at)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
           AS s (conversation_id, id, edited_body, edited_at, deleted_at)
         WHERE m.conversation_id = s.conversation_id AND m.id = s.id AND (m.deleted_at IS NULL OR s.deleted_at IS NOT NULL)`,
        [
          states.map((s) => s.conversationId),
          states.map((s) => s.id),
          states.map((s) => s.edit?.body ?? null),
          states.map((s) => s.edit?.editedAt ?? null),
          states.map((s) => s.deletedAt),
        ],
      );
      if (deletions.length > 0) {
        await client.query(
          'DELETE FROM files AS f USING unnest($1::text[], $2::text[]) AS d (conversation_id, id) WHERE f.conversation_id = d.conversation_id AND f.message_id = d.id',
          [deletions.map((s) => s.conversationId), deletions.map((s) => s.id)],
        );
      }
    });
  }

  async getReadPositions(conversationId: ConversationId): Promise<Map<UserId, number>> {
    const rows = await all<{ user_id: string; seq: number }>(this.#pool, 'SELECT user_id, seq FROM read_positions WHERE conversation_id = $1', [conversationId]);
    return new Map(rows.map((row) => [row.user_id as UserId, row.seq]));
  }
}

/**
 * One state per message, as applying `states` one after another would leave it: the last one,
 * unless an earlier one deleted the message (the first deletion stays). UPDATE … FROM uses an
 * unpredictable one of several rows that match the same message, so they must not reach it.
 */
function lastStates(states: readonly MessageState[]): MessageState[] {
  const byMessage = new Map<string, MessageState>();
  for (const state of states) {
    const key = `${state.conversationId}/${state.id}`;
    const earlier = byMessage.get(key);
    if (earlier && earlier.deletedAt !== null) continue;
    byMessage.set(key, state);
  }
  return [...byMessage.values()];
}
