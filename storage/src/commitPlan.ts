// Decides a commit batch from the facts both backends read under their locks, so SQLite and
// Postgres cannot drift apart on what a commit accepts: conditional appends, conversation-wide
// message ids, numbering 1..N, head moves, read positions, client-id ownership and the files a
// new message names.
import type { AttachmentEntry, ConversationId, MessageId, UserId } from '@outpost/shared-schema';
import type { NewMessage, NumberedMessage } from './Projection.ts';
import { CLIENTS_PER_DOC_PER_DAY, type CommitOutcome, type LogWrite } from './UpdateLog.ts';

/** What the backend read for a batch, keyed as below. */
export interface CommitFacts {
  /** doc → version (0 for a document never written). */
  heads: Map<string, number>;
  /** conversation → numbering state. */
  conversations: Map<ConversationId, { lastSeq: number; head: number; headCount: number }>;
  /** `${conversationId}/${messageId}` → its number, for the message ids of the batch. */
  numbered: Map<string, NumberedMessage>;
  /** `${doc}/${clientId}` → owner, for the client ids of the batch. */
  owners: Map<string, UserId>;
  /** `${doc}/${userId}` → client ids claimed in the last day. */
  recentClaims: Map<string, number>;
  /** file id → what the file's record says, for the files the batch's new messages name. */
  files: Map<string, FileFacts>;
}

/** What a commit needs to know of a file a new message names. */
export interface FileFacts {
  conversationId: ConversationId;
  uploader: UserId;
  messageId: MessageId | null;
  entry: AttachmentEntry;
}

/** Rows to write for the accepted writes of a batch. */
export interface CommitRows {
  entries: { doc: string; version: number; update: Uint8Array }[];
  heads: { doc: string; version: number }[];
  messages: { conversationId: ConversationId; id: MessageId; seq: number; segment: number; author: UserId; createdAt: number; body: string; replyTo: MessageId | null; receivedAt: number }[];
  conversations: { id: ConversationId; lastSeq: number; head: number; headCount: number }[];
  reads: { conversationId: ConversationId; userId: UserId; seq: number }[];
  claims: { doc: string; clientId: number; userId: UserId; at: number }[];
  /** Files now carried by a numbered message. */
  attachments: { fileId: string; messageId: MessageId }[];
}

export const numberKey = (conversationId: string, messageId: string): string => `${conversationId}/${messageId}`;

/** Decides every write in order against `facts` (which it updates), and lists the rows to write. */
export function planCommit(writes: readonly LogWrite[], facts: CommitFacts, now: number): { outcomes: CommitOutcome[]; rows: CommitRows } {
  const rows: CommitRows = { entries: [], heads: [], messages: [], conversations: [], reads: [], claims: [], attachments: [] };
  const touched = new Map<ConversationId, { lastSeq: number; head: number; headCount: number }>();
  // Writes to one document in one batch are a chain, each based on the entry of the one before
  // (see the write path's batches): once one is refused, those after it are based on an entry
  // that does not exist, whatever the log's version says (another node may have appended as
  // many entries meanwhile), and are refused as stale.
  const broken = new Set<string>();
  const outcomes = writes.map((write): CommitOutcome => {
    if (broken.has(write.doc)) return { ok: false, reason: 'stale' };
    const outcome = decide(write, facts, rows, touched, now);
    if (!outcome.ok) broken.add(write.doc);
    return outcome;
  });
  for (const [id, state] of touched) rows.conversations.push({ id, ...state });
  const heads = new Map<string, number>();
  for (const entry of rows.entries) heads.set(entry.doc, entry.version);
  for (const [doc, version] of heads) rows.heads.push({ doc, version });
  return { outcomes, rows };
}

function decide(
  write: LogWrite,
  facts: CommitFacts,
  rows: CommitRows,
  touched: Map<ConversationId, { lastSeq: number; head: number; headCount: number }>,
  now: number,
): CommitOutcome {
  if ((facts.heads.get(write.doc) ?? 0) !== write.base) return { ok: false, reason: 'stale' };

  // Client ids: checked before anything changes.
  const newClients: number[] = [];
  if (write.clients) {
    const taken: number[] = [];
    for (const id of new Set(write.clients.ids)) {
      const owner = facts.owners.get(`${write.doc}/${id}`);
      if (owner === undefined) newClients.push(id);
      else if (owner !== write.clients.userId) taken.push(id);
    }
    if (taken.length > 0) return { ok: false, reason: 'clientTaken', ids: taken };
    const recent = facts.recentClaims.get(`${write.doc}/${write.clients.userId}`) ?? 0;
    if (recent + newClients.length > CLIENTS_PER_DOC_PER_DAY) return { ok: false, reason: 'tooManyClients', limit: CLIENTS_PER_DOC_PER_DAY };
  }

  // Numbering, on a copy of the conversation's state until the whole write is accepted.
  const numbers: NumberedMessage[] = [];
  const fresh: NumberedMessage[] = [];
  let cursor: { id: ConversationId; state: { lastSeq: number; head: number; headCount: number } } | undefined;
  if (write.messages && write.messages.list.length > 0) {
    const { conversationId, segmentSize, list } = write.messages;
    const current = facts.conversations.get(conversationId);
    if (!current) return { ok: false, reason: 'noConversation', conversationId };
    const state = { ...current };
    const duplicates: string[] = [];
    const badFiles: string[] = [];
    const carried = new Map<string, MessageId>();
    const seen = new Map<string, NumberedMessage>();
    for (const message of list) {
      const known = seen.get(message.id) ?? facts.numbered.get(numberKey(conversationId, message.id));
      if (known) {
        if (known.segment !== message.segment) duplicates.push(message.id);
        else numbers.push(known);
        continue;
      }
      if (message.segment > state.head + 1) return { ok: false, reason: 'beyondHead', head: state.head };
      badFiles.push(...unacceptableFiles(message, conversationId, facts.files, carried));
      if (message.segment === state.head + 1) {
        state.head += 1;
        state.headCount = 0;
      }
      state.lastSeq += 1;
      const numbered = { id: message.id, seq: state.lastSeq, segment: message.segment, receivedAt: now };
      seen.set(message.id, numbered);
      numbers.push(numbered);
      fresh.push(numbered);
      if (message.segment === state.head) {
        state.headCount += 1;
        if (state.headCount >= segmentSize) {
          state.head += 1;
          state.headCount = 0;
        }
      }
    }
    if (duplicates.length > 0) return { ok: false, reason: 'duplicateMessage', ids: duplicates };
    if (badFiles.length > 0) return { ok: false, reason: 'badAttachment', ids: badFiles };
    cursor = { id: conversationId, state };
  }

  for (const read of write.reads ?? []) {
    const state = cursor?.id === read.conversationId ? cursor.state : facts.conversations.get(read.conversationId);
    // Refused here, or its row would break the foreign key and fail the whole batch.
    if (!state) return { ok: false, reason: 'noConversation', conversationId: read.conversationId };
    if (read.seq > state.lastSeq) return { ok: false, reason: 'readBeyondEnd', conversationId: read.conversationId, lastSeq: state.lastSeq };
  }

  // Accepted: record it.
  const version = write.base + 1;
  facts.heads.set(write.doc, version);
  const update = typeof write.entry === 'function' ? write.entry(numbers) : write.entry;
  rows.entries.push({ doc: write.doc, version, update });
  if (write.clients) {
    for (const clientId of newClients) {
      facts.owners.set(`${write.doc}/${clientId}`, write.clients.userId);
      rows.claims.push({ doc: write.doc, clientId, userId: write.clients.userId, at: now });
    }
    const key = `${write.doc}/${write.clients.userId}`;
    facts.recentClaims.set(key, (facts.recentClaims.get(key) ?? 0) + newClients.length);
  }
  if (cursor && write.messages) {
    facts.conversations.set(cursor.id, cursor.state);
    touched.set(cursor.id, cursor.state);
    const byId = new Map(write.messages.list.map((message) => [message.id, message]));
    for (const numbered of fresh) {
      facts.numbered.set(numberKey(cursor.id, numbered.id), numbered);
      const message = byId.get(numbered.id);
      if (!message) continue;
      rows.messages.push({
        conversationId: cursor.id,
        id: numbered.id,
        seq: numbered.seq,
        segment: numbered.segment,
        author: message.author,
        createdAt: message.createdAt,
        body: message.body,
        replyTo: message.replyTo ?? null,
        receivedAt: numbered.receivedAt,
      });
      for (const attachment of message.attachments ?? []) {
        rows.attachments.push({ fileId: attachment.id, messageId: numbered.id });
        const file = facts.files.get(attachment.id);
        if (file) file.messageId = numbered.id;
      }
    }
  }
  for (const read of write.reads ?? []) rows.reads.push({ ...read });
  return {
    ok: true,
    version,
    numbers,
    ...(cursor ? { cursor: { conversationId: cursor.id, lastSeq: cursor.state.lastSeq, head: cursor.state.head } } : {}),
  };
}

/**
 * The files `message` names that it may not carry: each must be a file its author uploaded to
 * this conversation, carried by no other message, and named exactly as recorded — so no message
 * is ever numbered pointing at a file the server does not have, or at someone else's.
 */
function unacceptableFiles(
  message: NewMessage,
  conversationId: ConversationId,
  files: ReadonlyMap<string, FileFacts>,
  /** Files claimed by earlier messages of the same write. */
  carried: Map<string, MessageId>,
): string[] {
  const bad: string[] = [];
  for (const attachment of message.attachments ?? []) {
    const file = files.get(attachment.id);
    const carrier = carried.get(attachment.id) ?? file?.messageId ?? null;
    const acceptable =
      file !== undefined &&
      file.conversationId === conversationId &&
      file.uploader === message.author &&
      (carrier === null || carrier === message.id) &&
      sameEntry(file.entry, attachment);
    if (!acceptable) bad.push(attachment.id);
    else carried.set(attachment.id, message.id);
  }
  return bad;
}

function sameEntry(a: AttachmentEntry, b: AttachmentEntry): boolean {
  return (
    a.id === b.id && a.name === b.name && a.type === b.type && a.size === b.size &&
    a.width === b.width && a.height === b.height && a.placeholder === b.placeholder
  );
}

/** The keys a backend must read facts for. */
export function factKeys(writes: readonly LogWrite[]): {
  docs: string[];
  numberingConversations: ConversationId[];
  readConversations: ConversationId[];
  messageIds: { conversationId: ConversationId; id: MessageId }[];
  clients: { doc: string; clientId: number }[];
  claimants: { doc: string; userId: UserId }[];
  /** Ids of the files new messages name, sorted (Postgres locks their rows in this order). */
  files: string[];
} {
  const docs = new Set<string>();
  const numbering = new Set<ConversationId>();
  const reading = new Set<ConversationId>();
  const messageIds = new Map<string, { conversationId: ConversationId; id: MessageId }>();
  const clients = new Map<string, { doc: string; clientId: number }>();
  const claimants = new Map<string, { doc: string; userId: UserId }>();
  const files = new Set<string>();
  for (const write of writes) {
    docs.add(write.doc);
    if (write.messages && write.messages.list.length > 0) {
      numbering.add(write.messages.conversationId);
      for (const message of write.messages.list) {
        messageIds.set(numberKey(write.messages.conversationId, message.id), { conversationId: write.messages.conversationId, id: message.id });
        for (const attachment of message.attachments ?? []) files.add(attachment.id);
      }
    }
    for (const read of write.reads ?? []) reading.add(read.conversationId);
    if (write.clients && write.clients.ids.length > 0) {
      for (const clientId of write.clients.ids) clients.set(`${write.doc}/${clientId}`, { doc: write.doc, clientId });
      claimants.set(`${write.doc}/${write.clients.userId}`, { doc: write.doc, userId: write.clients.userId });
    }
  }
  for (const id of numbering) reading.delete(id);
  const sorted = <T>(values: Iterable<T>) => [...values].sort();
  return {
    docs: sorted(docs),
    numberingConversations: sorted(numbering),
    readConversations: sorted(reading),
    messageIds: [...messageIds.values()],
    clients: [...clients.values()],
    claimants: [...claimants.values()],
    files: sorted(files),
  };
}

/** A day, for counting new client ids. */
export const CLAIM_WINDOW_MS = 24 * 60 * 60 * 1000;
