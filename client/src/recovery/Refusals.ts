// The client's record of refused documents: hands each refusal to Recovery, gives it the means
// to act (recoveryHost), and tells the views which documents stopped and what was lost.
import type { HocuspocusProvider } from '@hocuspocus/provider';
import type * as Y from 'yjs';
import { orderDoc, parseDocName, segmentMaps, seqMap, serverDoc, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import type { DocumentRefusal, SyncConnection } from '../connection/SyncConnection.ts';
import type { Conversation } from '../conversation/Conversation.ts';
import type { DocStore } from '../replica/DocStore.ts';
import { Recovery, type RecoveryReport } from './Recovery.ts';
import type { LostChange } from './salvage.ts';

/** A document the server refused, what the SDK did about it, and what the user lost. */
export interface Failure {
  docName: string;
  kind: DocumentRefusal['kind'];
  message: string;
  /** True when the document is no longer synced (access lost, or refused again). */
  stopped: boolean;
  /** When stopped: your messages in that document that have no number; they will not be delivered. */
  messageIds: MessageId[];
  /** Changes dropped when the document was quarantined and re-synced, each with its reason. */
  lost: LostChange[];
}

export interface RefusalDeps {
  me: UserId;
  docs: DocStore;
  connection: SyncConnection;
  /** The providers the client keeps per document (recovery swaps them). */
  providers: Map<string, HocuspocusProvider>;
  conversation(id: ConversationId): Conversation | undefined;
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
    if (fresh) return fresh.reject(new Error(`${refusal.kind}: ${refusal.message}`));
    void this.#recovery.onRefused(refusal);
  }

  /** The connection reports a document in step with the server. */
  synced(docName: string): void {
    this.#freshSyncs.get(docName)?.resolve();
  }

  /** Why a document stopped syncing, if it did. */
  stoppedReason(docName: string): { kind: string; message: string } | undefined {
    const report = this.#reports.get(docName);
    return report?.stopped ? report : undefined;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  list(): Failure[] {
    return [...this.#reports.values()].map(({ docName, kind, message, stopped, lost }) => ({
      docName,
      kind,
      message,
      stopped,
      lost,
      messageIds: stopped ? this.#unnumberedOwn(docName) : [],
    }));
  }

  /** Your messages in a segment document that have no number yet. */
  #unnumberedOwn(docName: string): MessageId[] {
    const doc = parseDocName(docName);
    const content = this.#deps.docs.peek(docName);
    if (doc?.kind !== 'segment' || !content) return [];
    const numbered = seqMap(this.#deps.docs.open(orderDoc(doc.conversationId, doc.segment)));
    return [...segmentMaps(content).messages.entries()]
      .filter(([id, entry]) => entry.author === this.#deps.me && !numbered.has(id))
      .map(([id]) => id as MessageId);
  }

  /** How Recovery reaches the client's documents and connection. */
  #host() {
    const { me, docs, connection, providers } = this.#deps;
    const attach = (name: string, doc: Y.Doc) => providers.set(name, connection.attach(name, doc));
    return {
      me,
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
        if (parsed?.kind === 'segment') this.#deps.conversation(parsed.conversationId)?.replaceSegment(parsed.segment, doc);
        docs.replace(name, doc);
      },
      resync: (name: string) => {
        const doc = docs.peek(name);
        if (doc) attach(name, doc);
      },
      roleIn: (conversationId: string) =>
        this.#deps.conversation(conversationId as ConversationId)?.members().get().find((m) => m.userId === me)?.role ?? null,
      report: (report: RecoveryReport) => {
        this.#reports.set(report.docName, report);
        for (const listener of this.#listeners) listener();
      },
    };
  }
}

/** Resolves once `check` holds (polled), or after 10 s: recovery goes on with what it has. */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check() && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
}
