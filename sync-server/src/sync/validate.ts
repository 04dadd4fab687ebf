// The rules: given what an update does (analyze.ts), may its sender do it? Content segments and
// user documents are written by clients; everything else only by the server. A rule decides on
// the state the update produces, not on the bytes: a message is one thing in its conversation,
// only its author edits it, and nothing but the deletion lives on after it is deleted.
import type * as Y from 'yjs';
import {
  DeletionEntry,
  DraftEntry,
  EditEntry,
  MessageEntry,
  NotifyEntry,
  ReactionEntry,
  ReadEntry,
  SegmentRoots,
  UserRoots,
  isServerClientId,
  isUuid,
  messageTombstone,
  parseReactionKey,
  parseReadKey,
  preferenceEntry,
  type ConversationId,
  type DeviceId,
  type MessageId,
  type Role,
  type UserId,
} from '@outpost/shared-schema';
import type { Analysis, Effect, Site } from './analyze.ts';
import { ruleBroken } from './refusals.ts';

export interface Sender {
  userId: UserId;
  deviceId: DeviceId;
}

/** What an accepted segment update changes. */
export interface SegmentChanges {
  /** New messages, in the order they integrate. */
  messages: { id: MessageId; entry: MessageEntry }[];
  /** Messages whose edits, deletion or reactions changed (for the projection and counters). */
  touched: Set<MessageId>;
  /**
   * Entries that would live on beside a deletion: written for a message that is deleted once the
   * update is in (a device edited or reacted while another deleted it), or already in the
   * document when a deletion arrives from a device that had not seen them. Accepted, and deleted
   * by the server in the same entry, so nothing but the deletion lives on.
   */
  neutralize: Y.ID[];
  /**
   * Messages the update edits, deletes or reacts to that are neither in the document nor in the
   * update: the change raced ahead of the message (written in another tab, or before an app
   * restart under another client id, whose upload has not arrived yet) — nothing in Yjs's
   * structure says so, because a new key has no origin — or the message lives in another segment
   * (a forgery). The write path tells which; nothing is written meanwhile.
   */
  waitingFor: Set<MessageId>;
  /** Messages deleted by a group owner or admin who is not their author (for the audit log). */
  removedByModerator: { id: MessageId; author: UserId; by: UserId }[];
  /**
   * Messages the update deletes whose entry still holds their text: the server overwrites each
   * entry with a tombstone (author and time, no body) in the same log entry, so Yjs drops the
   * text everywhere the entry goes (deletion is real, see docs/security.md).
   */
  tombstones: Tombstone[];
}

/** A message entry the server replaces with what is left of a deleted message. */
export interface Tombstone {
  id: MessageId;
  /** The entry it replaces (its last clock): the overwrite's origin. */
  origin: { client: number; clock: number };
  value: { author: UserId; createdAt: number; body: '' };
}

export interface UserDocChanges {
  reads: { conversationId: ConversationId; seq: number }[];
}

function valueOf(item: Y.Item): unknown {
  const content = item.content as { constructor: { name: string }; getContent(): unknown[] };
  if (item.content.constructor.name === 'ContentDeleted') return undefined;
  if (content.constructor.name !== 'ContentAny') throw ruleBroken('only plain values are allowed in maps');
  const values = content.getContent();
  if (values.length !== 1) throw ruleBroken('a map entry holds exactly one value');
  return values[0];
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw ruleBroken(`${what} is malformed`);
  return result.data;
}

/**
 * Deleting the value a key held is how Yjs records overwriting it: such deletions ride along with
 * a new value for the same key that takes its place, and are judged with that write. A deletion
 * is a removal only when it deletes the item the key holds once the update's writes are in (a new
 * value that lands before the current one, where Yjs puts a value written without seeing it,
 * does not take its place).
 */
function removals(analysis: Analysis): Effect[] {
  return analysis.deletes.filter(({ item, site }) => {
    const holder = analysis.holderOf(site);
    return holder === 'unknown' || holder.item === item;
  });
}

/** Whether no live value holds `site` once the update is in (or its shape is not an honest one). */
function leavesKeyEmpty(analysis: Analysis, site: Site): boolean {
  const holder = analysis.holderOf(site);
  return holder === 'unknown' || !holder.live;
}

/** The entry currently stored under `key` (live or deleted), as Yjs keeps it. */
function entryItem(doc: Y.Doc, root: string, key: string): Y.Item | undefined {
  return (doc.getMap(root) as unknown as { _map: Map<string, Y.Item> })._map.get(key);
}

/**
 * Judges an update to a content segment. Throws Refused (ruleBroken) on the first broken rule;
 * `waitingFor` names messages it needs before it can be judged whole. The conversation-wide rules (a message id unique in the conversation, no message past
 * `head + 1`) are decided where the message is numbered, in the same transaction.
 */
export function validateSegment(doc: Y.Doc, analysis: Analysis, sender: Sender & { role: Role }): SegmentChanges {
  const changes: SegmentChanges = { messages: [], touched: new Set(), neutralize: [], waitingFor: new Set(), tombstones: [], removedByModerator: [] };
  const messages = doc.getMap<MessageEntry>(SegmentRoots.messages);
  const deletions = doc.getMap(SegmentRoots.deletions);
  const newMessages = new Map<string, MessageEntry>();
  const newItems = new Map<string, Y.Item>();
  const deletedHere = new Set<string>();

  for (const { item, site } of analysis.writes) {
    if (site.root === SegmentRoots.messages) {
      if (!isUuid(site.key)) throw ruleBroken('a message id is a UUID');
      if (entryItem(doc, SegmentRoots.messages, site.key) !== undefined || newMessages.has(site.key)) throw ruleBroken('a message is written once');
      const value = valueOf(item);
      if (value === undefined) throw ruleBroken('a message entry cannot be removed; delete the message instead');
      const entry = parse(MessageEntry, value, 'message') as MessageEntry;
      if (entry.author !== sender.userId) throw ruleBroken('message author must be the sender');
      newMessages.set(site.key, entry);
      newItems.set(site.key, item);
      changes.messages.push({ id: site.key as MessageId, entry });
    } else if (site.root === SegmentRoots.deletions && valueOf(item) !== undefined) {
      deletedHere.add(site.key);
    }
  }
  const authorOf = (id: string): UserId | undefined => (newMessages.get(id) ?? messages.get(id))?.author as UserId | undefined;
  const deletedAfter = (id: string) => deletedHere.has(id) || deletions.has(id);
  const moderator = sender.role === 'owner' || sender.role === 'admin';

  for (const { item, site } of analysis.writes) {
    const value = site.root === SegmentRoots.messages ? undefined : valueOf(item);
    switch (site.root) {
      case SegmentRoots.messages:
        break;
      case SegmentRoots.edits: {
        const author = authorOf(site.key);
        if (value !== undefined) parse(EditEntry, value, 'edit');
        if (author === undefined) {
          changes.waitingFor.add(site.key as MessageId);
          break;
        }
        if (author !== sender.userId) throw ruleBroken('only the author edits a message');
        if (value !== undefined && deletedAfter(site.key)) changes.neutralize.push(item.id);
        changes.touched.add(site.key as MessageId);
        break;
      }
      case SegmentRoots.deletions: {
        if (value === undefined) {
          // This device's deletion lost to another's deletion of the same message, and Yjs dropped
          // its value before it was sent: it changes nothing, unless it would take the key.
          if (leavesKeyEmpty(analysis, site)) throw ruleBroken('a deletion cannot be undone');
          break;
        }
        const entry = parse(DeletionEntry, value, 'deletion');
        const author = authorOf(site.key);
        if (author !== undefined && author !== sender.userId && !moderator) throw ruleBroken('only the author or a group admin deletes a message');
        if (entry.by !== sender.userId) throw ruleBroken('a deletion is signed by the sender');
        if (author === undefined) {
          changes.waitingFor.add(site.key as MessageId);
          break;
        }
        if (author !== sender.userId && !deletions.has(site.key)) changes.removedByModerator.push({ id: site.key as MessageId, author, by: sender.userId });
        changes.touched.add(site.key as MessageId);
        break;
      }
      case SegmentRoots.reactions: {
        const key = parseReactionKey(site.key);
        if (!key) throw ruleBroken('a reaction key is <messageId>/<emoji>/<userId>');
        if (key.userId !== sender.userId) throw ruleBroken('a reaction key carries the sender’s own user id');
        if (value !== undefined) parse(ReactionEntry, value, 'reaction');
        if (authorOf(key.messageId) === undefined) {
          changes.waitingFor.add(key.messageId);
          break;
        }
        if (value !== undefined && deletedAfter(key.messageId)) changes.neutralize.push(item.id);
        changes.touched.add(key.messageId);
        break;
      }
      case SegmentRoots.seq:
        throw ruleBroken('sequence numbers are written by the server only');
      default:
        throw ruleBroken(`unknown root "${site.root}"`);
    }
  }

  // A deletion made without seeing the latest edit or someone's reaction leaves those live in
  // the document: they go with it.
  if (deletedHere.size > 0) changes.neutralize.push(...liveEntriesOf(doc, deletedHere, analysis));
  for (const id of deletedHere) {
    if (changes.waitingFor.has(id as MessageId)) continue;
    const tombstone = tombstoneFor(doc, id, newItems.get(id), newMessages.get(id));
    if (tombstone) changes.tombstones.push(tombstone);
  }

  for (const { site } of removals(analysis)) {
    switch (site.root) {
      case SegmentRoots.messages:
        throw ruleBroken('a message entry cannot be removed; delete the message instead');
      case SegmentRoots.deletions:
        throw ruleBroken('a deletion cannot be undone');
      case SegmentRoots.seq:
        throw ruleBroken('sequence numbers are written by the server only');
      case SegmentRoots.edits:
        if (changes.waitingFor.has(site.key as MessageId)) break;
        // The author takes an edit back; anyone may clear what is left of a deleted message.
        if (authorOf(site.key) !== sender.userId && !deletedAfter(site.key)) throw ruleBroken('only the author edits a message');
        changes.touched.add(site.key as MessageId);
        break;
      case SegmentRoots.reactions: {
        const key = parseReactionKey(site.key);
        if (!key) throw ruleBroken('a reaction key is <messageId>/<emoji>/<userId>');
        if (changes.waitingFor.has(key.messageId)) break;
        if (key.userId !== sender.userId && !deletedAfter(key.messageId)) throw ruleBroken('only your own reactions can be removed');
        changes.touched.add(key.messageId);
        break;
      }
      default:
        throw ruleBroken(`unknown root "${site.root}"`);
    }
  }
  return changes;
}

/**
 * The tombstone that replaces a deleted message's entry, or null when the entry holds no text
 * any more (the server replaced it already: its writes carry the server's client ids).
 */
function tombstoneFor(doc: Y.Doc, id: string, newItem: Y.Item | undefined, newEntry: MessageEntry | undefined): Tombstone | null {
  const item = newItem ?? entryItem(doc, SegmentRoots.messages, id);
  const entry = newEntry ?? (doc.getMap<MessageEntry>(SegmentRoots.messages).get(id) as MessageEntry | undefined);
  if (!item || !entry || isServerClientId(item.id.client)) return null;
  return {
    id: id as MessageId,
    origin: { client: item.id.client, clock: item.id.clock + item.length - 1 },
    value: messageTombstone(entry),
  };
}

/**
 * Live edit and reaction entries of `messages` in the document that the update does not delete
 * itself. Reactions are found in one pass over the segment's reaction map (its keys start with
 * the message id), so the cost does not grow with the number of deletions.
 */
function liveEntriesOf(doc: Y.Doc, messages: ReadonlySet<string>, analysis: Analysis): Y.ID[] {
  const deletedByUpdate = new Set(analysis.deletes.map(({ item }) => item));
  const live = (item: Y.Item | undefined): item is Y.Item => item !== undefined && !item.deleted && !deletedByUpdate.has(item);
  const ids: Y.ID[] = [];
  for (const id of messages) {
    const edit = entryItem(doc, SegmentRoots.edits, id);
    if (live(edit)) ids.push(edit.id);
  }
  const reactions = (doc.getMap(SegmentRoots.reactions) as unknown as { _map: Map<string, Y.Item> })._map;
  for (const [key, item] of reactions) {
    if (live(item) && messages.has(key.slice(0, key.indexOf('/')))) ids.push(item.id);
  }
  return ids;
}

/** Judges an update to the sender's own user document (read positions, drafts, notification settings). */
export function validateUser(analysis: Analysis, sender: Sender): UserDocChanges {
  const changes: UserDocChanges = { reads: [] };
  const check = ({ site }: Effect, value: unknown, deleting: boolean) => {
    switch (site.root) {
      case UserRoots.reads: {
        const key = parseReadKey(site.key);
        if (!key) throw ruleBroken('a read key is <conversationId>/<deviceId>');
        if (key.deviceId !== sender.deviceId) throw ruleBroken('a device writes only its own read positions');
        if (deleting) throw ruleBroken('a read position is never removed');
        if (value !== undefined) changes.reads.push({ conversationId: key.conversationId, seq: parse(ReadEntry, value, 'read position') });
        return;
      }
      case UserRoots.drafts:
        if (!isUuid(site.key)) throw ruleBroken('a draft key is a conversation id');
        if (value !== undefined) parse(DraftEntry, value, 'draft');
        return;
      case UserRoots.notify:
        if (!isUuid(site.key)) throw ruleBroken('a notify key is a conversation id');
        if (value !== undefined) parse(NotifyEntry, value, 'notify level');
        return;
      case UserRoots.preferences: {
        const entry = preferenceEntry(site.key);
        if (!entry) throw ruleBroken(`unknown preference "${site.key}"`);
        if (value !== undefined) parse(entry, value, `preference ${site.key}`);
        return;
      }
      default:
        throw ruleBroken(`unknown root "${site.root}"`);
    }
  };
  for (const effect of analysis.writes) {
    const value = valueOf(effect.item);
    // A write without a value (its content deleted) that ends up holding the key removes it.
    check(effect, value, value === undefined && leavesKeyEmpty(analysis, effect.site));
  }
  for (const effect of removals(analysis)) check(effect, undefined, true);
  return changes;
}
