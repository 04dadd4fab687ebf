// What the write path asks the log to commit, as plain data: so a commit can run on another
// thread (SQLite's fsync off the event loop) and still build the entry there once the messages
// have their numbers — the client's update merged with the server's `seq` entries.
import * as Y from 'yjs';
import { SegmentRoots, type SeqEntry } from '@outpost/shared-schema';
import type { CommitOutcome, LogWrite, NumberedMessage, UpdateLog } from '@outpost/storage';
import { encodeNewEntries, type DeleteRange, type NewEntry } from './serverWrites.ts';

/** An empty Yjs update (no structs, no deletions). */
const EMPTY_UPDATE = new Uint8Array([0, 0]);

export interface CommitRequest {
  doc: string;
  /** The version the node's copy holds (see LogWrite.base). */
  base: number;
  /** What the entry starts with: a client's update, or a server write encoded against the copy. */
  update: Uint8Array | null;
  /**
   * Sequence entries the server writes into a segment under its client id from `clock` on: the
   * `known` ones, then one per message numbered by this commit; and items to delete.
   */
  numbering?: {
    client: number;
    clock: number;
    known: readonly ({ id: string } & SeqEntry)[];
    deletes: readonly DeleteRange[];
    /** Entries written over others before the sequence entries (deleted messages' tombstones). */
    overwrites?: readonly Required<NewEntry>[];
  };
  messages?: LogWrite['messages'];
  reads?: LogWrite['reads'];
  clients?: LogWrite['clients'];
}

export interface CommitResult {
  outcome: CommitOutcome;
  /** The entry as appended (to apply), when the write was accepted. */
  entry: Uint8Array | null;
}

/** The entry of `request` once its messages have `numbers`. */
export function buildEntry(request: CommitRequest, numbers: readonly NumberedMessage[]): Uint8Array {
  const { numbering } = request;
  const server = numbering
    ? encodeNewEntries(
        numbering.client,
        numbering.clock,
        [
          ...(numbering.overwrites ?? []),
          ...[...numbering.known, ...numbers.filter((n) => !numbering.known.some((k) => k.id === n.id)).map((n) => ({ id: n.id, seq: n.seq, at: n.receivedAt }))].map(
            ({ id, seq, at }) => ({ root: SegmentRoots.seq, key: id, value: { seq, at } }),
          ),
        ],
        numbering.deletes,
      )
    : null;
  if (!request.update) return server ?? EMPTY_UPDATE;
  return server ? Y.mergeUpdates([request.update, server]) : request.update;
}

/** Commits `requests` in one batch on `log`; each accepted one comes back with its entry. */
export async function commitRequests(log: UpdateLog, requests: readonly CommitRequest[], now: number): Promise<CommitResult[]> {
  const entries: (Uint8Array | null)[] = requests.map(() => null);
  const writes = requests.map((request, i): LogWrite => {
    const { doc, base, messages, reads, clients } = request;
    return {
      doc,
      base,
      ...(messages ? { messages } : {}),
      ...(reads ? { reads } : {}),
      ...(clients ? { clients } : {}),
      entry: (numbers) => (entries[i] = buildEntry(request, numbers)),
    };
  });
  const outcomes = await log.commit(writes, now);
  return outcomes.map((outcome, i) => ({ outcome, entry: outcome.ok ? entries[i] ?? null : null }));
}
