// The audit log: security-relevant events, appended and never changed (the database refuses
// updates and deletes), read back newest first by the administrator with filters.
import type { AuditDetails, AuditKind } from '@outpost/shared-schema';

export interface AuditRecord {
  /** Increasing in append order, across nodes. */
  id: number;
  at: number;
  kind: AuditKind;
  actor: string | null;
  subject: string | null;
  details: AuditDetails;
}

export interface AuditFilter {
  /** Only these kinds (empty or absent: every kind). */
  kinds?: readonly AuditKind[];
  /** Only events whose actor or subject is this id. */
  involving?: string;
  /** From this time, inclusive. */
  since?: number;
  /** Up to this time, exclusive. */
  until?: number;
  /** Only events with an id below this (paging back). */
  before?: number;
  limit: number;
}

export interface AuditLog {
  /** Appends one event; returns its id. */
  append(event: Omit<AuditRecord, 'id'>): Promise<number>;
  /** Events matching `filter`, newest (highest id) first. */
  list(filter: AuditFilter): Promise<AuditRecord[]>;
}
