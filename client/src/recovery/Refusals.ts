// The client's record of refused documents: hands each refusal to Recovery, gives it the means
// to act, and tells the views which documents stopped and what was lost. A failure that has
// recovered (the document synced again, nothing lost) is forgotten.
import type { HocuspocusProvider } from '@hocuspocus/provider';
import type * as Y from 'yjs';
import { isStaleServerCopy, parseDocName, segmentMaps, serverDoc, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import type { DocumentRefusal, SyncConnection } from '../connection/SyncConnection.ts';
import type { Conversation } from '../conversation/Conversation.ts';
import type { DocStore } from '../replica/DocStore.ts';
import { Recovery, type RecoveryReport } from './Recovery.ts';
import type { LostChange } from './salvage.ts';

/** A document the server refused, what the SDK did about it, and what the user lost. */
export interface Failure {
  docName: string;
  kind: DocumentRefusal['kind'];
  /** What the SDK did: retried, stopped (access lost, signed out), quarantined (rule broken), … */
  code: DocumentRefusal['code'];
  message: string;
  /** True when the document is no longer synced (access lost, signed out, refused again). */
  stopped: boolean;
  /** When stopped: your messages in that document that have no number; they will not be delivered. */
  messageIds: MessageId[];
  /** Changes dropped when the document was quarantined and re-synced, each with its reason. */
  lost: LostChange[];
}

export interface RefusalDeps {
  me: UserId;
  deviceId: string;
  docs: DocStore;
  connection: SyncConnection;
  /** The providers the client keeps per document (recovery swaps them). */
  providers: Map<string, HocuspocusProvider>;
  conversation(id: ConversationId): Conversation | undefined;
  /** Unsent work in a document that will never reach the server. */
  failUnsent(docName: string, reason: string): void;
}

export class Refusals {
  readonly #deps: RefusalDeps;
  readonly #reports = new Map<string, RecoveryReport>();
  readonly #listeners = new Set<() => void>();
  readonly #recovery: Recovery;
  /** Fresh copies being synced after a quarantine: settled when synced, or refused. */
  readonly #freshSyncs = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(deps: RefusalDeps) {
    this.#deps = deps;
    this.#recovery = new Recovery(this.#host());
  }

  /** The connection reports a refusal. */
  refused(refusal: DocumentRefusal): void {
    const fresh = this.#freshSyncs.get(refusal.docName);
    if (fresh) return fresh.reject(Object.assign(new Error(`${refusal.kind}: ${refusal.message}`), { refusal }));
    void this.#recovery.onRefused(refusal);
  }

  /** The connection reports a document in step with the server. */
  synced(docName: string): void {
    this.#freshSyncs.get(docName)?.resolve();
    // A server-owned copy that mixes two rebuilds of the document is replaced, never merged.
    const kind = parseDocName(docName)?.kind;
    const doc = this.#deps.docs.peek(docName);
    if ((kind === 'server' || kind === 'inbox') && doc && isStaleServerCopy(doc) && !this.#freshSyncs.has(docName)) {
      void this.#recovery.onRefused({ docName, kind: 'conflict', code: 'replaced', message: 'the server rebuilt this document' });
      return;
    }
    this.#recovery.recovered(docName);
    const report = this.#reports.get(docName);
    if (report && !report.stopped && report.lost.length === 0) {
      this.#reports.delete(docName);
      this.#changed();
    }
  }

  /** Why a document stopped syncing, if it did. */
  stoppedReason(docName: string): { kind: string; message: string } | undefined {
    const report = this.#reports.get(docName);
    return report?.stopped ? report : undefined;
  }

  /** True when the user lost access to a conversation's documents. */
  accessLost(conversationId: ConversationId): boolean {
    const report = this.#reports.get(serverDoc(conversationId));
    return report?.code === 'accessLost';
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  list(): Failure[] {
    return [...this.#reports.values()].map(({ docName, kind, code, message, stopped, lost }) => ({
      docName,
      kind,
      code,
      message,
      stopped,
      lost,
      messageIds: stopped ? this.#unnumberedOwn(docName) : [],
    }));
  }

  /** Forgets a failure the user has seen (e.g. the lost changes were shown). */
  dismiss(docName: string): void {
    if (this.#reports.delete(docName)) this.#changed();
  }

  close(): void {
    this.#recovery.close();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Your messages in a segment document that have no number yet. */
  #unnumberedOwn(docName: string): MessageId[] {
    const content = this.#deps.docs.peek(docName);
    if (parseDocName(docName)?.kind !== 'segment' || !content) return [];
    const maps = segmentMaps(content);
    return [...maps.messages.entries()].filter(([id, entry]) => entry.author === this.#deps.me && !maps.seq.has(id)).map(([id]) => id as MessageId);
  }

  /** How Recovery reaches the client's documents and connection. */
  #host() {
    const { me, deviceId, docs, connection, providers } = this.#deps;
    const attach = (name: string, doc: Y.Doc) => providers.set(name, connection.attach(name, doc));
    return {
      me,
      deviceId,
      current: (name: string) => docs.peek(name),
      detach: (name: string) => {
        connection.detach(name);
        providers.delete(name);
      },
      syncFresh: async (name: string, doc: Y.Doc) => {
        const parsed = parseDocName(name);
        const synced = new Promise<void>((resolve, reject) => this.#freshSyncs.set(name, { resolve, reject }));
        attach(name, doc);
        try {
          await synced;
          // Salvage needs the user's current role: wait for the conversation's server doc too.
          if (parsed?.kind === 'segment') await until(() => connection.isSynced(serverDoc(parsed.conversationId)));
        } finally {
          this.#freshSyncs.delete(name);
        }
      },
      replace: (name: string, doc: Y.Doc) => {
        const parsed = parseDocName(name);
        if (parsed && (parsed.kind === 'segment' || parsed.kind === 'server')) this.#deps.conversation(parsed.conversationId)?.replaceDocument(name, doc);
        docs.replace(name, doc);
      },
      resync: (name: string) => {
        const doc = docs.peek(name);
        if (doc) attach(name, doc);
      },
      roleIn: (conversationId: string) =>
        this.#deps.conversation(conversationId as ConversationId)?.members().get().find((m) => m.userId === me)?.role ?? null,
      lockedIn: (conversationId: string) => this.#deps.conversation(conversationId as ConversationId)?.meta().get()?.posting === 'admins',
      failUnsent: (name: string, reason: string) => this.#deps.failUnsent(name, reason),
      report: (report: RecoveryReport) => {
        // A quarantine reports once the fresh copy has synced: with nothing lost, it is over.
        const recovered = !report.stopped && report.lost.length === 0 && connection.isSynced(report.docName);
        if (recovered ? this.#reports.delete(report.docName) : this.#reports.set(report.docName, report)) this.#changed();
      },
    };
  }
}

/** Resolves once `check` holds (polled), or after 10 s: recovery goes on with what it has. */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check() && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
}
