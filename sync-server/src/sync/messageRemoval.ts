// The server removes messages itself: an account erase (every message its owner wrote, and their
// reactions), and deleted messages whose entry still holds text (deleted before deletion was
// real). One server write per segment, through the write path — logged before anyone sees it —
// then the read model and the log follow as for any deletion (erasure.ts).
import type { Hocuspocus } from '@hocuspocus/server';
import type * as Y from 'yjs';
import {
  SegmentRoots,
  isServerClientId,
  messageTombstone,
  parseReactionKey,
  segmentDoc,
  segmentMaps,
  type ConversationId,
  type MessageEntry,
  type MessageId,
  type UserId,
} from '@outpost/shared-schema';
import type { Erasure } from './erasure.ts';
import type { ProjectionWriter } from './projectionWriter.ts';
import type { MapOp } from './serverWrites.ts';
import { SEGMENT_SERVER_CLIENT, type WritePath } from './writePath.ts';

/** Which messages of a segment go, and whose reactions. */
export interface RemovalChoice {
  /** Messages to delete (their text goes); `by` signs the deletion entry. */
  messages(id: MessageId, entry: MessageEntry, deleted: boolean): boolean;
  by(entry: MessageEntry): UserId;
  /** Reactions by this user go too, on any message of the segment. */
  reactionsOf?: UserId;
}

/** The map ops that remove what `choice` names from `doc`, and the messages they delete. */
export function removalOps(doc: Y.Doc, choice: RemovalChoice, now: number): { ops: MapOp[]; removed: MessageId[] } {
  const maps = segmentMaps(doc);
  const entries = (doc.getMap(SegmentRoots.messages) as unknown as { _map: Map<string, Y.Item> })._map;
  const ops: MapOp[] = [];
  const removed = new Set<string>();
  for (const [id, entry] of maps.messages.entries()) {
    const item = entries.get(id);
    // A tombstone already (written by the server): nothing of the text is left.
    if (!item || isServerClientId(item.id.client)) continue;
    const deleted = maps.deletions.has(id);
    if (!choice.messages(id as MessageId, entry, deleted)) continue;
    if (!deleted) ops.push({ root: SegmentRoots.deletions, key: id, value: { by: choice.by(entry), at: now } });
    ops.push({ root: SegmentRoots.messages, key: id, value: messageTombstone(entry) });
    if (maps.edits.has(id)) ops.push({ root: SegmentRoots.edits, key: id });
    removed.add(id);
  }
  for (const key of maps.reactions.keys()) {
    const parsed = parseReactionKey(key);
    if (parsed && (removed.has(parsed.messageId) || parsed.userId === choice.reactionsOf)) ops.push({ root: SegmentRoots.reactions, key });
  }
  return { ops, removed: [...removed] as MessageId[] };
}

export class MessageRemoval {
  readonly #hocuspocus: () => Hocuspocus;
  readonly #writePath: WritePath;
  readonly #projection: ProjectionWriter;
  readonly #erasure: Erasure;
  readonly #segmentChanged: (conversationId: ConversationId, segment: number) => void;

  constructor(options: {
    hocuspocus: () => Hocuspocus;
    writePath: WritePath;
    projection: ProjectionWriter;
    erasure: Erasure;
    /** Members' copies of an older segment re-sync when its change counter moves. */
    segmentChanged: (conversationId: ConversationId, segment: number) => void;
  }) {
    this.#segmentChanged = options.segmentChanged;
    this.#hocuspocus = options.hocuspocus;
    this.#writePath = options.writePath;
    this.#projection = options.projection;
    this.#erasure = options.erasure;
  }

  /**
   * Removes what `choice` names from one segment (loading it if this node does not hold it);
   * returns the messages deleted. Other nodes and members' devices get it as any log entry.
   */
  async remove(conversationId: ConversationId, segment: number, choice: RemovalChoice): Promise<MessageId[]> {
    const name = segmentDoc(conversationId, segment);
    const connection = await this.#hocuspocus().openDirectConnection(name, { server: 'messageRemoval' });
    try {
      const doc = connection.document;
      if (!doc) throw new Error(`invariant failed: ${name} did not load`);
      let removed: MessageId[] = [];
      const outcome = await this.#writePath.serverWrite(name, doc, (current) => {
        const plan = removalOps(current, choice, Date.now());
        removed = plan.removed;
        return plan.ops.length === 0 ? null : { client: SEGMENT_SERVER_CLIENT, ops: plan.ops };
      });
      if (outcome) {
        if (removed.length > 0) this.#projection.touched(conversationId, doc, removed);
        this.#segmentChanged(conversationId, segment);
        this.#erasure.deleted(name);
      }
      return outcome ? removed : [];
    } finally {
      await connection.disconnect();
    }
  }
}
