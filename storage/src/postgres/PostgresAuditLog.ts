// The audit log on Postgres (ids from a sequence: increasing in commit-start order across nodes).
import type pg from 'pg';
import type { AuditFilter, AuditLog, AuditRecord } from '../AuditLog.ts';
import { auditColumns, auditWhere, toAuditRecord, type AuditRow } from '../auditRows.ts';
import { all, one } from './query.ts';

export class PostgresAuditLog implements AuditLog {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async append(event: Omit<AuditRecord, 'id'>): Promise<number> {
    const row = await one<{ id: number }>(
      this.#pool,
      'INSERT INTO audit_events (at, kind, actor, subject, details) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [event.at, event.kind, event.actor, event.subject, JSON.stringify(event.details)],
    );
    return Number(row?.id);
  }

  async list(filter: AuditFilter): Promise<AuditRecord[]> {
    const { where, params } = auditWhere(filter, (n) => `$${n}`);
    const rows = await all<AuditRow>(
      this.#pool,
      `SELECT ${auditColumns} FROM audit_events ${where} ORDER BY id DESC LIMIT $${params.length + 1}`,
      [...params, filter.limit],
    );
    return rows.map(toAuditRecord);
  }
}
