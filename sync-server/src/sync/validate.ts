// Decides, from an update's structure alone, whether its sender may make it. Yjs would accept
// anything; Outpost checks every new struct and every deletion against the document's schema and
// the sender's rights before the update is logged or applied. Cost grows with the update.
import * as Y from 'yjs';
import {
  DeletionEntry,
  EditEntry,
  Limits,
  MessageEntry,
  OutpostError,
  ReactionEntry,
  SegmentRoots,
  UserRoots,
  ReadEntry,
  DraftEntry,
  NotifyEntry,
  preferenceEntry,
  isUuid,
  parseReactionKey,
  parseReadKey,
  type ConversationId,
  type DeviceId,
  type MessageId,
  type Role,
  type UserId,
} from '@outpost/shared-schema';

export interface Sender {
  userId: UserId;
  deviceId: DeviceId;
}

/** What an accepted segment update changes, for sequencing and the projection. */
export interface SegmentChanges {
  messages: { id: MessageId; entry: MessageEntry }[];
  edits: { id: MessageId; entry: EditEntry }[];
  deletions: { id: MessageId; entry: DeletionEntry }[];
  reactions: number;
}

export interface UserDocChanges {
  reads: { conversationId: ConversationId; seq: number }[];
}

/** A validated update: what it changes, and the Yjs client ids it writes with. */
export interface Validated<T> {
  changes: T;
  clients: ReadonlySet<number>;
}

/** Raised for an update that breaks a rule; the connection closes with this reason. */
export class InvalidUpdate extends OutpostError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

interface WriteSite {
  root: string;
  key: string;
}

interface DecodedUpdate {
  /** New items (or the new part of items), with where they write. */
  writes: { item: Y.Item; site: WriteSite }[];
  /** Items this update deletes that are live in the document now. */
  deletes: { item: Y.Item; site: WriteSite }[];
  /** Yjs client ids of the new structs: they must belong to the sender. */
  clients: Set<number>;
  empty: boolean;
}

/** Caps on what one update may hold, so a small update cannot make the server do a lot of work. */
export const UpdateCaps = {
  structs: 50_000,
  deleteRanges: 50_000,
  /** Items a delete set may touch. */
  deletedItems: 100_000,
  /** Sum of struct lengths (a deleted run is one struct of length n). */
  totalLength: 1_000_000,
} as const;

/**
 * Decodes the update against the current document: which map keys it writes and deletes.
 * Only structs the document does not have yet count; a resent update is empty.
 */
function decodeAgainst(doc: Y.Doc, update: Uint8Array): DecodedUpdate {
  if (update.byteLength > Limits.updateBytes) throw new OutpostError('tooLarge', `update exceeds ${Limits.updateBytes} bytes`);
  let decoded: { structs: Array<Y.Item | Y.GC | Y.Skip>; ds: ReturnType<typeof Y.createDeleteSet> };
  try {
    decoded = Y.decodeUpdate(update) as typeof decoded;
  } catch (error) {
    throw new OutpostError('invalidInput', `malformed update (${(error as Error).message})`);
  }
  if (decoded.structs.length > UpdateCaps.structs) throw new OutpostError('tooLarge', `update holds more than ${UpdateCaps.structs} structs`);
  let totalLength = 0;
  const inUpdate = new Map<string, Y.Item>();
  const updateStructs = new Map<number, Y.Item[]>();
  /** Per client, the clock after the update's last struct (items, GC and skips alike). */
  const updateEnds = new Map<number, number>();
  for (const struct of decoded.structs) {
    totalLength += struct.length;
    updateEnds.set(struct.id.client, Math.max(updateEnds.get(struct.id.client) ?? 0, struct.id.clock + struct.length));
    if (!(struct instanceof Y.Item)) continue;
    inUpdate.set(`${struct.id.client}:${struct.id.clock}`, struct);
    const list = updateStructs.get(struct.id.client);
    if (list) list.push(struct);
    else updateStructs.set(struct.id.client, [struct]);
  }
  if (totalLength > UpdateCaps.totalLength) throw new OutpostError('tooLarge', 'update expands beyond the allowed length');

  // Map items carry their parent and key, or inherit them from their left origin (the previous
  // value of the same key), which is in the document or earlier in this update.
  const siteOf = (item: Y.Item, depth = 0): WriteSite => {
    if (depth > 10_000) throw new InvalidUpdate('origin chain too long');
    if (typeof item.parent === 'string') {
      if (item.parentSub === null) throw new InvalidUpdate(`only map entries are allowed (root "${item.parent}")`);
      return { root: item.parent, key: item.parentSub };
    }
    if (item.parent instanceof Y.AbstractType) {
      const root = item.parent._item === null ? Y.findRootTypeKey(item.parent) : null;
      if (root === null || item.parentSub === null) throw new InvalidUpdate('nested types are not allowed');
      return { root, key: item.parentSub };
    }
    if (item.parent !== null) throw new InvalidUpdate('nested types are not allowed');
    const originId = item.origin ?? item.rightOrigin;
    if (originId === null) throw new InvalidUpdate('item without parent or origin');
    const origin = findItem(originId);
    if (!origin) throw new InvalidUpdate('item refers to an unknown origin');
    return siteOf(origin, depth + 1);
  };
  const findItem = (id: Y.ID): Y.Item | null => {
    const local = inUpdate.get(`${id.client}:${id.clock}`);
    if (local) return local;
    if (Y.getState(doc.store, id.client) <= id.clock) return null;
    const found = Y.getItem(doc.store, id);
    return found instanceof Y.Item ? found : null;
  };

  const writes: DecodedUpdate['writes'] = [];
  const clients = new Set<number>();
  for (const struct of decoded.structs) {
    const known = Y.getState(doc.store, struct.id.client);
    if (struct.id.clock + struct.length <= known) continue; // the document has it already
    clients.add(struct.id.client);
    if (struct instanceof Y.Skip || struct instanceof Y.GC) continue; // no content, no effect
    writes.push({ item: struct, site: siteOf(struct) });
  }

  // A delete set names clock ranges; visit only the items that exist in them (in the document
  // or in this update), never each clock, so a huge range costs what it actually touches.
  const deletes: DecodedUpdate['deletes'] = [];
  let ranges = 0;
  let visited = 0;
  const visit = (item: Y.Item) => {
    if (++visited > UpdateCaps.deletedItems) throw new OutpostError('tooLarge', 'update deletes too many items');
    if (!item.deleted) deletes.push({ item, site: siteOf(item) });
  };
  for (const [client, clientRanges] of decoded.ds.clients) {
    const stored = doc.store.clients.get(client) ?? [];
    const state = Y.getState(doc.store, client);
    const updateEnd = Math.max(state, updateEnds.get(client) ?? 0);
    for (const range of clientRanges) {
      if (++ranges > UpdateCaps.deleteRanges) throw new OutpostError('tooLarge', 'update holds too many delete ranges');
      const end = range.clock + range.len;
      // Yjs would keep a deletion of unknown items in memory, waiting for them forever.
      if (end > updateEnd) throw new InvalidUpdate('update deletes items that do not exist');
      if (range.clock < state) {
        for (let i = Y.findIndexSS(stored, range.clock); i < stored.length && (stored[i] as Y.Item | Y.GC).id.clock < end; i++) {
          const struct = stored[i];
          if (struct instanceof Y.Item) visit(struct);
        }
      }
      for (const struct of updateStructs.get(client) ?? []) {
        if (struct.id.clock < end && struct.id.clock + struct.length > range.clock && struct.id.clock >= state) visit(struct);
      }
    }
  }
  return { writes, deletes, clients, empty: writes.length === 0 && deletes.length === 0 };
}

function valueOf(item: Y.Item): unknown {
  if (item.content instanceof Y.ContentDeleted) return undefined;
  if (!(item.content instanceof Y.ContentAny)) throw new InvalidUpdate('only plain values are allowed in maps');
  const values = item.content.getContent();
  if (values.length !== 1) throw new InvalidUpdate('a map entry holds exactly one value');
  return values[0];
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { message: string } } }, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidUpdate(`${what} is malformed`);
  return result.data;
}

export interface SegmentContext {
  sender: Sender;
  senderRole: Role;
  /** The author of a message that is not in this segment or this update, if the server knows it. */
  authorOf(messageId: MessageId): UserId | undefined;
}

/**
 * Validates an update to a content segment and lists what it changes. Throws InvalidUpdate
 * (forbidden), `tooLarge` or `invalidInput`; returns null for an update that changes nothing.
 */
export function validateSegmentUpdate(doc: Y.Doc, update: Uint8Array, context: SegmentContext): Validated<SegmentChanges> | null {
  const decoded = decodeAgainst(doc, update);
  if (decoded.empty) return null;
  const { sender } = context;
  const changes: SegmentChanges = { messages: [], edits: [], deletions: [], reactions: 0 };
  const messages = doc.getMap<MessageEntry>(SegmentRoots.messages);
  const newAuthors = new Map<string, UserId>();

  for (const { item, site } of decoded.writes) {
    if (site.root === SegmentRoots.messages) {
      if (!isUuid(site.key)) throw new InvalidUpdate('message id must be a UUID');
      if (messages.has(site.key) || newAuthors.has(site.key)) throw new InvalidUpdate('a message is written once');
      const entry = parse(MessageEntry, valueOf(item), 'message');
      if (entry.author !== sender.userId) throw new InvalidUpdate('message author must be the sender');
      newAuthors.set(site.key, entry.author as UserId);
      changes.messages.push({ id: site.key as MessageId, entry: entry as MessageEntry });
    }
  }
  const authorOf = (id: string): UserId | undefined =>
    newAuthors.get(id) ?? (messages.get(id)?.author as UserId | undefined) ?? context.authorOf(id as MessageId);

  for (const { item, site } of decoded.writes) {
    const value = valueOf(item);
    switch (site.root) {
      case SegmentRoots.messages:
        break;
      case SegmentRoots.edits: {
        if (authorOf(site.key) !== sender.userId) throw new InvalidUpdate('only the author edits a message');
        if (value !== undefined) changes.edits.push({ id: site.key as MessageId, entry: parse(EditEntry, value, 'edit') });
        break;
      }
      case SegmentRoots.deletions: {
        const author = authorOf(site.key);
        if (author === undefined) throw new InvalidUpdate('cannot delete an unknown message');
        const moderator = context.senderRole === 'owner' || context.senderRole === 'admin';
        if (author !== sender.userId && !moderator) throw new InvalidUpdate('only the author or a group admin deletes a message');
        if (value === undefined) throw new InvalidUpdate('a deletion cannot be undone');
        const entry = parse(DeletionEntry, value, 'deletion');
        if (entry.by !== sender.userId) throw new InvalidUpdate('deletion must be signed by the sender');
        changes.deletions.push({ id: site.key as MessageId, entry: entry as DeletionEntry });
        break;
      }
      case SegmentRoots.reactions: {
        const key = parseReactionKey(site.key);
        if (!key) throw new InvalidUpdate('reaction key must be <messageId>/<emoji>/<userId>');
        if (key.userId !== sender.userId) throw new InvalidUpdate('a reaction key carries the sender’s own user id');
        if (value !== undefined) parse(ReactionEntry, value, 'reaction');
        changes.reactions += 1;
        break;
      }
      default:
        throw new InvalidUpdate(`unknown root "${site.root}"`);
    }
  }

  for (const { site } of decoded.deletes) {
    switch (site.root) {
      case SegmentRoots.messages:
        throw new InvalidUpdate('message entries cannot be removed; delete the message instead');
      case SegmentRoots.deletions:
        throw new InvalidUpdate('a deletion cannot be undone');
      case SegmentRoots.edits:
        if (authorOf(site.key) !== sender.userId) throw new InvalidUpdate('only the author edits a message');
        break;
      case SegmentRoots.reactions:
        if (parseReactionKey(site.key)?.userId !== sender.userId) throw new InvalidUpdate('only your own reactions can be removed');
        changes.reactions += 1;
        break;
      default:
        throw new InvalidUpdate(`unknown root "${site.root}"`);
    }
  }
  return { changes, clients: decoded.clients };
}

/** Validates an update to the sender's own user document (read positions and drafts). */
export function validateUserUpdate(doc: Y.Doc, update: Uint8Array, sender: Sender): Validated<UserDocChanges> | null {
  const decoded = decodeAgainst(doc, update);
  if (decoded.empty) return null;
  const changes: UserDocChanges = { reads: [] };
  const check = (site: WriteSite, value: unknown, deleting: boolean) => {
    switch (site.root) {
      case UserRoots.reads: {
        const key = parseReadKey(site.key);
        if (!key) throw new InvalidUpdate('read key must be <conversationId>/<deviceId>');
        if (key.deviceId !== sender.deviceId) throw new InvalidUpdate('a device writes only its own read positions');
        if (deleting) break;
        if (value !== undefined) changes.reads.push({ conversationId: key.conversationId, seq: parse(ReadEntry, value, 'read position') });
        break;
      }
      case UserRoots.drafts:
        if (!isUuid(site.key)) throw new InvalidUpdate('draft key must be a conversation id');
        if (value !== undefined) parse(DraftEntry, value, 'draft');
        break;
      case UserRoots.notify:
        if (!isUuid(site.key)) throw new InvalidUpdate('notify key must be a conversation id');
        if (value !== undefined) parse(NotifyEntry, value, 'notify level');
        break;
      case UserRoots.preferences: {
        const entry = preferenceEntry(site.key);
        if (!entry) throw new InvalidUpdate(`unknown preference "${site.key}"`);
        if (value !== undefined) parse(entry, value, `preference ${site.key}`);
        break;
      }
      default:
        throw new InvalidUpdate(`unknown root "${site.root}"`);
    }
  };
  for (const { item, site } of decoded.writes) check(site, valueOf(item), false);
  for (const { site } of decoded.deletes) check(site, undefined, true);
  return { changes, clients: decoded.clients };
}

/** Server-owned documents take no client writes; an update that changes nothing is tolerated. */
export function isNoOpUpdate(doc: Y.Doc, update: Uint8Array): boolean {
  return decodeAgainst(doc, update).empty;
}
