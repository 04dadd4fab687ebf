// Records security-relevant events in the append-only audit log (storage), one structured log
// line each, and counts them — the one place every audited event passes through.
import type { AuditDetails, AuditKind } from '@outpost/shared-schema';
import type { Storage } from '@outpost/storage';
import type { Logger } from '../log.ts';

export class Audit {
  readonly #storage: Storage;
  readonly #log: Logger;
  readonly #counted: (kind: AuditKind) => void;

  /** `counted` hears of every event once it is stored (the `outpost_audit_events_total{kind}` counter). */
  constructor(storage: Storage, log: Logger, counted: (kind: AuditKind) => void = () => undefined) {
    this.#storage = storage;
    this.#log = log;
    this.#counted = counted;
  }

  /**
   * Appends one event; resolves once it is stored. Throws when storage does, so a request that
   * must be audited fails rather than passing unrecorded.
   *
   * @example
   * await audit.record('user.deactivated', admin.id, target.id, { devicesSignedOut: 2 });
   */
  async record(kind: AuditKind, actor: string | null, subject: string | null, details: AuditDetails = {}, at = Date.now()): Promise<void> {
    await this.#storage.audit.append({ at, kind, actor, subject, details });
    this.#counted(kind);
    this.#log.info('audit', { kind, actor, subject, ...details });
  }

  /** As record, for paths that must not wait or fail for the audit log (the write path): errors are logged. */
  recordLater(kind: AuditKind, actor: string | null, subject: string | null, details: AuditDetails = {}): void {
    const at = Date.now();
    this.record(kind, actor, subject, details, at).catch((error: unknown) =>
      this.#log.error('an audit event could not be stored', { kind, actor, subject, error }),
    );
  }
}
