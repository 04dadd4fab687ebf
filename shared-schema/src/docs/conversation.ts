// A content segment `conv:<id>:<n>`: flat top-level maps whose keys show who owns an entry, so
// the server validates an update by its keys and values alone. Members write `messages`,
// `edits`, `deletions` and `reactions`; the server alone writes `seq`, the canonical number of
// each message, in the same log entry as the message itself.
import * as Y from 'yjs';
import { z } from 'zod';
import { Limits } from '../limits.ts';
import { isUuid, type MessageId, type UserId } from '../names.ts';

export const SegmentRoots = {
  messages: 'messages',
  edits: 'edits',
  deletions: 'deletions',
  reactions: 'reactions',
  /** Written by the server only: messageId → {seq, at}. */
  seq: 'seq',
} as const;
export type SegmentRoot = keyof typeof SegmentRoots;

const uuid = z.string().refine(isUuid, 'must be a UUID');
const time = z.number().int().nonnegative();

/**
 * Why a message body is not acceptable, or null when it is. Length is counted in UTF-16 code
 * units (`string.length`) everywhere: here, in the server's validation and in the SDK. A message
 * that carries files may have no text (the caption is optional).
 */
export function bodyProblem(body: string, attachments = 0): string | null {
  if (body.includes('\u0000')) return 'a message cannot hold the NUL character (U+0000)';
  if (body.trim().length === 0 && attachments === 0) return 'a message needs some text';
  if (body.length > Limits.messageBody) return `a message holds at most ${Limits.messageBody} characters`;
  return null;
}

/**
 * `body` without the NUL character (U+0000), which a message cannot hold: no person types it, and
 * Postgres text cannot store it. The SDK sends what a person wrote (or pasted) through this.
 */
export function storableBody(body: string): string {
  return body.includes('\u0000') ? body.replaceAll('\u0000', '') : body;
}

const body = z.string().refine((value) => bodyProblem(value) === null, 'not an acceptable message body');

/**
 * A file a message carries, exactly as the server stored it when it was uploaded (the server
 * checks every field against its record before the message is numbered). `type` is what the
 * server decided from the bytes; width, height and the placeholder are there for images.
 */
export const AttachmentEntry = z.strictObject({
  id: uuid,
  name: z.string().min(1).max(Limits.fileName),
  type: z.string().max(100).regex(/^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/),
  size: z.number().int().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  /** A tiny blurred image (data: URL) shown while the thumbnail loads. */
  placeholder: z.string().max(Limits.placeholder).regex(/^data:image\/webp;base64,[A-Za-z0-9+/]+=*$/).optional(),
});
export type AttachmentEntry = z.infer<typeof AttachmentEntry>;

export const MessageEntry = z
  .strictObject({
    author: uuid,
    createdAt: time,
    body: z.string(),
    replyTo: uuid.optional(),
    /** Users mentioned in the body (by id, so @bob never counts for @bobby). */
    mentions: z.array(uuid).max(Limits.mentions).optional(),
    /** Files, in the order the author attached them; the body is then an optional caption. */
    attachments: z.array(AttachmentEntry).min(1).max(Limits.attachmentsPerMessage).optional(),
  })
  .refine((entry) => bodyProblem(entry.body, entry.attachments?.length ?? 0) === null, { message: 'not an acceptable message body', path: ['body'] })
  .refine((entry) => new Set(entry.attachments?.map((a) => a.id)).size === (entry.attachments?.length ?? 0), {
    message: 'a file is attached once',
    path: ['attachments'],
  });
export type MessageEntry = z.infer<typeof MessageEntry> & { author: UserId; replyTo?: MessageId; mentions?: UserId[] };

export const EditEntry = z.strictObject({ body, editedAt: time });
export type EditEntry = z.infer<typeof EditEntry>;

export const DeletionEntry = z.strictObject({ by: uuid, at: time });
export type DeletionEntry = z.infer<typeof DeletionEntry> & { by: UserId };

export const ReactionEntry = time;

/** A message's canonical number and the server's receive time (ms). A number is the acknowledgement. */
export interface SeqEntry {
  seq: number;
  at: number;
}

/** `<messageId>/<emoji>/<userId>`: the reacting user is part of the key, so it cannot be forged. */
export function reactionKey(messageId: MessageId, emoji: string, userId: UserId): string {
  return `${messageId}/${emoji}/${userId}`;
}

export function parseReactionKey(key: string): { messageId: MessageId; emoji: string; userId: UserId } | null {
  const first = key.indexOf('/');
  const last = key.lastIndexOf('/');
  if (first < 0 || first === last) return null;
  const messageId = key.slice(0, first);
  const emoji = key.slice(first + 1, last);
  const userId = key.slice(last + 1);
  if (!isUuid(messageId) || !isUuid(userId) || !isValidEmoji(emoji)) return null;
  return { messageId: messageId as MessageId, emoji, userId: userId as UserId };
}

export function isValidEmoji(emoji: string): boolean {
  return emoji.length > 0 && emoji.length <= Limits.emoji && !/[/\s]/.test(emoji);
}

export function segmentMaps(doc: Y.Doc) {
  return {
    messages: doc.getMap<MessageEntry>(SegmentRoots.messages),
    edits: doc.getMap<EditEntry>(SegmentRoots.edits),
    deletions: doc.getMap<DeletionEntry>(SegmentRoots.deletions),
    reactions: doc.getMap<number>(SegmentRoots.reactions),
    seq: doc.getMap<SeqEntry>(SegmentRoots.seq),
  };
}

/** What a message looks like once its segment's maps are folded together. */
export interface MessageView {
  id: MessageId;
  author: UserId;
  createdAt: number;
  body: string;
  replyTo?: MessageId;
  mentions?: UserId[];
  /** Files the message carries (none once it is deleted). */
  attachments?: AttachmentEntry[];
  editedAt?: number;
  deleted?: { by: UserId; at: number };
  /** emoji → user ids, in no particular order. */
  reactions: Record<string, UserId[]>;
}

/** One message folded from its segment's maps; `reactions` as the caller grouped them (none by default). */
export function readMessage(doc: Y.Doc, id: MessageId, reactions: Record<string, UserId[]> = {}): MessageView | null {
  const maps = segmentMaps(doc);
  const entry = maps.messages.get(id);
  if (!entry) return null;
  return foldMessage(id, entry, maps.edits.get(id), maps.deletions.get(id), reactions);
}

/** Folds a whole segment into message views, with reactions grouped per message. */
export function readSegment(doc: Y.Doc): Map<MessageId, MessageView> {
  const maps = segmentMaps(doc);
  const reactions = new Map<string, Record<string, UserId[]>>();
  for (const key of maps.reactions.keys()) {
    const parsed = parseReactionKey(key);
    if (!parsed) continue;
    let byEmoji = reactions.get(parsed.messageId);
    if (!byEmoji) reactions.set(parsed.messageId, (byEmoji = {}));
    (byEmoji[parsed.emoji] ??= []).push(parsed.userId);
  }
  const out = new Map<MessageId, MessageView>();
  for (const [id, entry] of maps.messages.entries()) {
    const messageId = id as MessageId;
    out.set(messageId, foldMessage(messageId, entry, maps.edits.get(id), maps.deletions.get(id), reactions.get(id) ?? {}));
  }
  return out;
}

function foldMessage(
  id: MessageId,
  entry: MessageEntry,
  edit: EditEntry | undefined,
  deletion: DeletionEntry | undefined,
  reactions: Record<string, UserId[]>,
): MessageView {
  const view: MessageView = {
    id,
    author: entry.author,
    createdAt: entry.createdAt,
    body: deletion ? '' : (edit?.body ?? entry.body),
    reactions: deletion ? {} : reactions,
  };
  if (entry.replyTo) view.replyTo = entry.replyTo;
  if (entry.mentions && !deletion) view.mentions = entry.mentions;
  if (entry.attachments && !deletion) view.attachments = entry.attachments;
  if (edit && !deletion) view.editedAt = edit.editedAt;
  if (deletion) view.deleted = { by: deletion.by, at: deletion.at };
  return view;
}

export function writeMessage(doc: Y.Doc, id: MessageId, entry: MessageEntry): void {
  segmentMaps(doc).messages.set(id, entry);
}

/**
 * What is left of a deleted message in its segment: who wrote it and when, no text. The server
 * writes it over the message's entry when the deletion arrives, so Yjs garbage-collects the
 * original entry (and its text) in every copy that receives it.
 */
export function messageTombstone(entry: Pick<MessageEntry, 'author' | 'createdAt'>): { author: UserId; createdAt: number; body: '' } {
  return { author: entry.author, createdAt: entry.createdAt, body: '' };
}

export function writeEdit(doc: Y.Doc, id: MessageId, entry: EditEntry): void {
  segmentMaps(doc).edits.set(id, entry);
}

/** Deletes a message: the deletion entry, and away with its edit and reactions in the same transaction. */
export function writeDeletion(doc: Y.Doc, id: MessageId, entry: DeletionEntry): void {
  const maps = segmentMaps(doc);
  doc.transact(() => {
    maps.deletions.set(id, entry);
    // A deleted message keeps no text or reactions around in the live state.
    if (maps.edits.has(id)) maps.edits.delete(id);
    for (const key of [...maps.reactions.keys()]) if (key.startsWith(`${id}/`)) maps.reactions.delete(key);
  });
}

export function writeReaction(doc: Y.Doc, messageId: MessageId, emoji: string, userId: UserId, at: number): void {
  segmentMaps(doc).reactions.set(reactionKey(messageId, emoji, userId), at);
}

export function removeReaction(doc: Y.Doc, messageId: MessageId, emoji: string, userId: UserId): void {
  segmentMaps(doc).reactions.delete(reactionKey(messageId, emoji, userId));
}

const MENTION = /(?:^|[^\w@])@([a-z0-9_.-]{3,32})/g;

/**
 * The @handles written in a body, lowercased, each once (the SDK turns them into user ids by
 * exact username, so @bob never counts for @bobby). A handle that ends a sentence ("thanks
 * @bob.") is also given without its trailing dots, dashes or underscores, since usernames may
 * contain them but a sentence's full stop is not part of the name.
 */
export function mentionedHandles(body: string): string[] {
  const handles = new Set<string>();
  for (const match of body.toLowerCase().matchAll(MENTION)) {
    const handle = match[1] as string;
    handles.add(handle);
    const trimmed = handle.replace(/[._-]+$/, '');
    if (trimmed.length >= 3) handles.add(trimmed);
  }
  return [...handles];
}
