// What the SDK does when the server refuses a document, so a user is never stuck retrying:
// - rateLimited: wait the time the server named, then sync again;
// - unauthorized: the session is over; report it (the app asks the user to sign in again);
// - access lost (removed from the conversation): stop syncing it; its unsent messages fail;
// - a rule broken (invalid or too large): quarantine the local copy, sync a fresh one from the
//   server, carry over what is still valid (salvage.ts), report the rest as failed. A document
//   refused again soon after its quarantine is not retried: its unsent work is reported failed.
import * as Y from 'yjs';
import { parseDocName, type ErrorKind, type Role, type UserId } from '@outpost/shared-schema';
import { salvageSegment, type LostChange } from './salvage.ts';

/** A refusal as the connection reports it. */
export interface Refusal {
  docName: string;
  kind: ErrorKind;
  message: string;
}

/** What the user should be told about a refused document. */
export interface RecoveryReport {
  docName: string;
  kind: ErrorKind;
  message: string;
  /** Changes that could not be carried over (quarantine), each with its reason. */
  lost: LostChange[];
  /** True when the document is no longer synced (access lost, or refused again). */
  stopped: boolean;
}

export interface RecoveryHost {
  me: UserId;
  /** The local copy of a document, if open. */
  current(docName: string): Y.Doc | undefined;
  /** Stops syncing a document (its provider goes away; the local copy stays). */
  detach(docName: string): void;
  /** Syncs `doc` as the document; resolves once it is in step with the server. */
  syncFresh(docName: string, doc: Y.Doc): Promise<void>;
  /** Makes `doc` the document everywhere (views, replica), replacing the quarantined copy. */
  replace(docName: string, doc: Y.Doc): void;
  /** Syncs the current local copy again (after a wait). */
  resync(docName: string): void;
  /** The user's role in a conversation as the server last said, or null when not a member. */
  roleIn(conversationId: string): Role | null;
  report(report: RecoveryReport): void;
}

/** A second refusal within this time after a quarantine gives up on the document. */
const REPEAT_WINDOW_MS = 60_000;
/** Rate-limit retries before giving up. */
const MAX_RATE_RETRIES = 5;

export class Recovery {
  readonly #host: RecoveryHost;
  readonly #quarantinedAt = new Map<string, number>();
  readonly #rateRetries = new Map<string, number>();
  readonly #busy = new Set<string>();

  constructor(host: RecoveryHost) {
    this.#host = host;
  }

  /** Handles one refusal; resolves when recovery is done (tests wait on it). */
  async onRefused(refusal: Refusal): Promise<void> {
    if (this.#busy.has(refusal.docName)) return;
    this.#busy.add(refusal.docName);
    try {
      await this.#handle(refusal);
    } finally {
      this.#busy.delete(refusal.docName);
    }
  }

  async #handle(refusal: Refusal): Promise<void> {
    const { docName, kind, message } = refusal;
    const stop = (lost: LostChange[] = []) => {
      this.#host.detach(docName);
      this.#host.report({ docName, kind, message, lost, stopped: true });
    };
    switch (kind) {
      case 'rateLimited': {
        const tries = (this.#rateRetries.get(docName) ?? 0) + 1;
        this.#rateRetries.set(docName, tries);
        if (tries > MAX_RATE_RETRIES) return stop();
        const wait = Number(/retryAfterMs=(\d+)/.exec(message)?.[1] ?? 1_000) * tries;
        this.#host.detach(docName);
        this.#host.report({ docName, kind, message, lost: [], stopped: false });
        await new Promise((resolve) => setTimeout(resolve, wait));
        this.#host.resync(docName);
        return;
      }
      case 'unauthorized':
        return stop();
      case 'forbidden':
        if (/not a member|removed from the conversation|belongs to another user/.test(message)) return stop();
        return this.#quarantine(refusal);
      case 'invalidInput':
      case 'tooLarge':
      case 'conflict':
        return this.#quarantine(refusal);
      case 'notFound':
      case 'internal':
        return stop();
    }
  }

  async #quarantine({ docName, kind, message }: Refusal): Promise<void> {
    const last = this.#quarantinedAt.get(docName);
    const quarantined = this.#host.current(docName);
    const doc = parseDocName(docName);
    if ((last !== undefined && Date.now() - last < REPEAT_WINDOW_MS) || !quarantined || doc?.kind !== 'segment') {
      // Refused again soon after a quarantine (or nothing to salvage): stop; the unsent
      // messages of a stopped document show as failed with this reason.
      this.#host.detach(docName);
      this.#host.report({ docName, kind, message, lost: [], stopped: true });
      return;
    }
    this.#quarantinedAt.set(docName, Date.now());
    this.#host.detach(docName);
    const fresh = new Y.Doc();
    try {
      await this.#host.syncFresh(docName, fresh);
    } catch (error) {
      // The fresh copy was refused too (e.g. access lost meanwhile): stop here.
      this.#host.detach(docName);
      this.#host.report({ docName, kind, message: `${message}; then: ${(error as Error).message}`, lost: [], stopped: true });
      return;
    }
    const { lost } = salvageSegment(quarantined, fresh, this.#host.me, this.#host.roleIn(doc.conversationId));
    this.#host.replace(docName, fresh);
    this.#host.report({ docName, kind, message, lost, stopped: false });
  }
}
