// Posting locks and reports on SQLite.
import type { ConversationId, Posting, UserId } from '@outpost/shared-schema';
import type { Moderation, ReportRecord } from '../Moderation.ts';
import { reportColumns, toReport, type ReportRow } from '../rows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

export class SqliteModeration implements Moderation {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async getPosting(conversationId: ConversationId): Promise<Posting> {
    return (this.#sql.get<{ posting: string }>('SELECT posting FROM conversations WHERE id = ?', conversationId)?.posting ?? 'everyone') as Posting;
  }

  async setPosting(conversationId: ConversationId, posting: Posting): Promise<boolean> {
    return this.#sql.run('UPDATE conversations SET posting = ? WHERE id = ?', posting, conversationId).changes > 0;
  }

  async createReport(report: Omit<ReportRecord, 'resolvedBy' | 'resolvedAt'>): Promise<{ created: boolean; report: ReportRecord }> {
    return this.#sql.immediate(() => {
      const created =
        this.#sql.run(
          `INSERT INTO reports (id, conversation_id, message_id, reporter, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (conversation_id, message_id, reporter) DO NOTHING`,
          report.id, report.conversationId, report.messageId, report.reporter, report.reason, report.createdAt,
        ).changes > 0;
      const row = this.#sql.get<ReportRow>(
        `SELECT ${reportColumns} FROM reports WHERE conversation_id = ? AND message_id = ? AND reporter = ?`,
        report.conversationId, report.messageId, report.reporter,
      ) as ReportRow;
      return { created, report: toReport(row) };
    });
  }

  async listReports({ open, limit }: { open: boolean; limit: number }): Promise<ReportRecord[]> {
    const where = open ? 'WHERE resolved_at IS NULL' : '';
    return this.#sql.all<ReportRow>(`SELECT ${reportColumns} FROM reports ${where} ORDER BY created_at DESC, id LIMIT ?`, limit).map(toReport);
  }

  async getReport(id: string): Promise<ReportRecord | null> {
    const row = this.#sql.get<ReportRow>(`SELECT ${reportColumns} FROM reports WHERE id = ?`, id);
    return row ? toReport(row) : null;
  }

  async resolveReport(id: string, by: UserId, now: number): Promise<boolean> {
    return this.#sql.run('UPDATE reports SET resolved_by = ?, resolved_at = ? WHERE id = ? AND resolved_at IS NULL', by, now, id).changes > 0;
  }
}
