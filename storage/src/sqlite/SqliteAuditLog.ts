// The audit log on SQLite.
import type { AuditFilter, AuditLog, AuditRecord } from '../AuditLog.ts';
import { auditColumns, auditWhere, toAuditRecord, type AuditRow } from '../auditRows.ts';
import type { SqliteDatabase } from './SqliteDatabase.ts';

export class SqliteAuditLog implements AuditLog {
  readonly #sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.#sql = sql;
  }

  async append(event: Omit<AuditRecord, 'id'>): Promise<number> {
    const result = this.#sql.run(
      'INSERT INTO audit_events (at, kind, actor, subject, details) VALUES (?, ?, ?, ?, ?)',
      event.at, event.kind, event.actor, event.subject, JSON.stringify(event.details),
    );
    return Number(result.lastInsertRowid);
  }

  async list(filter: AuditFilter): Promise<AuditRecord[]> {
    const { where, params } = auditWhere(filter, () => '?');
    const rows = this.#sql.all<AuditRow>(`SELECT ${auditColumns} FROM audit_events ${where} ORDER BY id DESC LIMIT ?`, ...params, filter.limit);
    return rows.map(toAuditRecord);
  }
}
