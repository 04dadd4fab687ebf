// The audit log's row shape on both backends and the WHERE clause of its filters, written once
// so SQLite and Postgres filter alike (only the placeholder syntax differs).
import type { AuditDetails, AuditKind } from '@outpost/shared-schema';
import type { AuditFilter, AuditRecord } from './AuditLog.ts';

export interface AuditRow {
  id: number;
  at: number;
  kind: string;
  actor: string | null;
  subject: string | null;
  details: string;
}

export const auditColumns = 'id, at, kind, actor, subject, details';

export function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    id: Number(row.id),
    at: Number(row.at),
    kind: row.kind as AuditKind,
    actor: row.actor,
    subject: row.subject,
    details: JSON.parse(row.details) as AuditDetails,
  };
}

/** The WHERE clause (possibly empty) and its parameters; `placeholder(n)` writes the n-th (1-based). */
export function auditWhere(filter: AuditFilter, placeholder: (n: number) => string): { where: string; params: (string | number)[] } {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  const next = (value: string | number) => {
    params.push(value);
    return placeholder(params.length);
  };
  if (filter.kinds && filter.kinds.length > 0) conditions.push(`kind IN (${filter.kinds.map((kind) => next(kind)).join(', ')})`);
  if (filter.involving !== undefined) {
    conditions.push(`(actor = ${next(filter.involving)} OR subject = ${next(filter.involving)})`);
  }
  if (filter.since !== undefined) conditions.push(`at >= ${next(filter.since)}`);
  if (filter.until !== undefined) conditions.push(`at < ${next(filter.until)}`);
  if (filter.before !== undefined) conditions.push(`id < ${next(filter.before)}`);
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
