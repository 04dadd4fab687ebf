// Posting locks and reports on Postgres.
import type pg from 'pg';
import type { ConversationId, Posting, UserId } from '@outpost/shared-schema';
import type { Moderation, ReportRecord } from '../Moderation.ts';
import { reportColumns, toReport, type ReportRow } from '../rows.ts';
import { all, one } from './query.ts';

export class PostgresModeration implements Moderation {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async getPosting(conversationId: ConversationId): Promise<Posting> {
    return ((await one<{ posting: string }>(this.#pool, 'SELECT posting FROM conversations WHERE id = $1', [conversationId]))?.posting ?? 'everyone') as Posting;
  }

  async setPosting(conversationId: ConversationId, posting: Posting): Promise<boolean> {
    return ((await this.#pool.query('UPDATE conversations SET posting = $1 WHERE id = $2', [posting, conversationId])).rowCount ?? 0) > 0;
  }

  async createReport(report: Omit<ReportRecord, 'resolvedBy' | 'resolvedAt'>): Promise<{ created: boolean; report: ReportRecord }> {
    const inserted = await this.#pool.query(
      `INSERT INTO reports (id, conversation_id, message_id, reporter, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (conversation_id, message_id, reporter) DO NOTHING`,
      [report.id, report.conversationId, report.messageId, report.reporter, report.reason, report.createdAt],
    );
    const row = (await one<ReportRow>(
      this.#pool,
      `SELECT ${reportColumns} FROM reports WHERE conversation_id = $1 AND message_id = $2 AND reporter = $3`,
      [report.conversationId, report.messageId, report.reporter],
    )) as ReportRow;
    return { created: (inserted.rowCount ?? 0) > 0, report: toReport(row) };
  }

  async listReports({ open, limit }: { open: boolean; limit: number }): Promise<ReportRecord[]> {
    const where = open ? 'WHERE resolved_at IS NULL' : '';
    return (await all<ReportRow>(this.#pool, `SELECT ${reportColumns} FROM reports ${where} ORDER BY created_at DESC, id COLLATE "C" LIMIT $1`, [limit])).map(toReport);
  }

  async getReport(id: string): Promise<ReportRecord | null> {
    const row = await one<ReportRow>(this.#pool, `SELECT ${reportColumns} FROM reports WHERE id = $1`, [id]);
    return row ? toReport(row) : null;
  }

  async resolveReport(id: string, by: UserId, now: number): Promise<boolean> {
    return ((await this.#pool.query('UPDATE reports SET resolved_by = $1, resolved_at = $2 WHERE id = $3 AND resolved_at IS NULL', [by, now, id])).rowCount ?? 0) > 0;
  }
}
