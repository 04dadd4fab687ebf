// What the SDK does when the server closes one of its documents, decided by the refusal's code
// (never by its text), so a user is never stuck and nothing retries in a tight loop:
// - retry: wait the time the server named (growing with each retry, with jitter), sync again;
//   never give up (storage trouble and overload pass);
// - signedOut: the session is over: stop, and say so (the app asks the user to sign in again);
// - accessLost: not a member (any more): stop syncing the document; unsent work there fails;
// - outdated: stop, and say so (the app asks for a reload);
// - replaced: the server rebuilt a server-owned document: drop the copy and sync a fresh one;
// - ruleBroken: quarantine the copy, sync a fresh one from the server, carry over what the rules
//   still allow (salvage.ts) and report the rest. Refused again soon after, a segment stops
//   (its unsent work is reported failed); the user document starts over from the server's copy.
import * as Y from 'yjs';
import { parseDocName, type DocName, type Refusal, type Role, type UserId } from '@outpost/shared-schema';
import { salvageSegment, salvageUser, type LostChange } from './salvage.ts';

/** A refusal as the connection reports it. */
export interface DocumentRefusal extends Refusal {
  docName: string;
}

/** What the user should be told about a refused document. */
export interface RecoveryReport {
  docName: string;
  kind: Refusal['kind'];
  code: Refusal['code'];
  message: string;
  /** Changes that could not be carried over (quarantine), each with its reason. */
  lost: LostChange[];
  /** True when the document is no longer synced (access lost, signed out, refused again). */
  stopped: boolean;
}

export interface RecoveryHost {
  me: UserId;
  deviceId: string;
  /** The local copy of a document, if open. */
  current(docName: string): Y.Doc | undefined;
  /** Stops syncing a document (its provider goes away; the local copy stays). */
  detach(docName: string): void;
  /** Syncs `doc` as the document; resolves once it is in step with the server. */
  syncFresh(docName: string, doc: Y.Doc): Promise<void>;
  /** Makes `doc` the document everywhere (views, replica), replacing the old copy. */
  replace(docName: string, doc: Y.Doc): void;
  /** Syncs the current local copy again. */
  resync(docName: string): void;
  /** The user's role in a conversation as the server last said, or null when not a member. */
  roleIn(conversationId: string): Role | null;
  /** Whether the group is locked to admins-only posting (as of the last sync). */
  lockedIn(conversationId: string): boolean;
  /** Unsent work in a document that will not reach the server; it fails with `reason`. */
  failUnsent(docName: string, reason: string): void;
  report(report: RecoveryReport): void;
}

/** A second rule refusal within this time after a quarantine changes course (see above). */
const REPEAT_WINDOW_MS = 60_000;
/** The longest wait between retries. */
const MAX_RETRY_MS = 60_000;

export class Recovery {
  readonly #host: RecoveryHost;
  readonly #quarantinedAt = new Map<string, number>();
  readonly #retries = new Map<string, number>();
  readonly #busy = new Set<string>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(host: RecoveryHost) {
    this.#host = host;
  }

  /** Handles one refusal; resolves when recovery is done (tests wait on it). */
  async onRefused(refusal: DocumentRefusal): Promise<void> {
    if (this.#busy.has(refusal.docName) || this.#closed) return;
    this.#busy.add(refusal.docName);
    try {
      await this.#handle(refusal);
    } finally {
      this.#busy.delete(refusal.docName);
    }
  }

  /** The document synced again: the retry count starts over. */
  recovered(docName: string): void {
    this.#retries.delete(docName);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  async #handle(refusal: DocumentRefusal): Promise<void> {
    const { docName, kind, code, message } = refusal;
    const report = (stopped: boolean, lost: LostChange[] = []) => this.#host.report({ docName, kind, code, message, lost, stopped });
    const stop = () => {
      this.#host.detach(docName);
      report(true);
    };
    switch (code) {
      case 'retry':
        return this.#retry(refusal, report);
      case 'signedOut':
      case 'outdated':
        return stop();
      case 'accessLost':
        stop();
        this.#host.failUnsent(docName, message);
        return;
      case 'replaced':
        return this.#startOver(refusal, report);
      case 'ruleBroken':
        return this.#quarantine(refusal, report);
    }
  }

  async #retry(refusal: DocumentRefusal, report: (stopped: boolean) => void): Promise<void> {
    const tries = (this.#retries.get(refusal.docName) ?? 0) + 1;
    this.#retries.set(refusal.docName, tries);
    const base = Math.max(refusal.retryAfterMs ?? 1_000, 250 * 2 ** Math.min(tries - 1, 8));
    const wait = Math.min(MAX_RETRY_MS, base) * (0.75 + Math.random() * 0.5);
    this.#host.detach(refusal.docName);
    report(false);
    await this.#sleep(wait);
    if (!this.#closed) this.#host.resync(refusal.docName);
  }

  /** Drops the local copy and syncs the server's (nothing of ours in it to carry over). */
  async #startOver(refusal: DocumentRefusal, report: (stopped: boolean) => void): Promise<void> {
    this.#host.detach(refusal.docName);
    const fresh = new Y.Doc();
    try {
      await this.#host.syncFresh(refusal.docName, fresh);
    } catch (error) {
      this.#again(error);
      return;
    }
    this.#host.replace(refusal.docName, fresh);
    report(false);
  }

  async #quarantine(refusal: DocumentRefusal, report: (stopped: boolean, lost?: LostChange[]) => void): Promise<void> {
    const { docName } = refusal;
    const last = this.#quarantinedAt.get(docName);
    const again = last !== undefined && Date.now() - last < REPEAT_WINDOW_MS;
    const doc = parseDocName(docName);
    const quarantined = this.#host.current(docName);
    if (!doc || !quarantined) return this.#startOver(refusal, report);
    if (again && doc.kind === 'segment') {
      // Refused again soon after a quarantine: stop; its unsent messages show as failed.
      this.#host.detach(docName);
      report(true);
      return;
    }
    this.#quarantinedAt.set(docName, Date.now());
    if (again || !canSalvage(doc)) {
      // The user document (or a server-owned one): start over from the server's copy.
      await this.#sleep(again ? 1_000 : 0);
      return this.#startOver(refusal, report);
    }
    this.#host.detach(docName);
    const fresh = new Y.Doc();
    try {
      await this.#host.syncFresh(docName, fresh);
    } catch (error) {
      this.#again(error);
      return;
    }
    const { lost } =
      doc.kind === 'segment'
        ? salvageSegment(quarantined, fresh, this.#host.me, this.#host.roleIn(doc.conversationId), this.#host.lockedIn(doc.conversationId))
        : salvageUser(quarantined, fresh, this.#host.deviceId);
    this.#host.replace(docName, fresh);
    report(false, lost);
  }

  /** The fresh copy was refused too: handle that refusal once this one is done. */
  #again(error: unknown): void {
    const refusal = (error as { refusal?: DocumentRefusal }).refusal;
    if (!refusal) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.onRefused(refusal);
    }, 0);
    this.#timers.add(timer);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}

function canSalvage(doc: DocName): boolean {
  return doc.kind === 'segment' || doc.kind === 'user';
}
