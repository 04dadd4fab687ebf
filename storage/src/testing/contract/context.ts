// What every part of the storage contract needs: the instances under test and small builders
// for the records and commits the assertions are about.
import { randomUUID } from 'node:crypto';
import { segmentDoc, type ConversationId, type MessageId, type Role, type UserId } from '@outpost/shared-schema';
import type { CommitOutcome, ConversationRecord, LogWrite, NewMessage, Storage, UpdateLog, UserRecord } from '../../Storage.ts';

/** Read inside `it` or `beforeEach`: the values change for every test. */
export interface ContractContext {
  /** The storage under test, on a fresh database, migrated. */
  storage(): Storage;
  /** Another instance on the same database (another pool or connection), migrated. */
  second(): Promise<Storage>;
}

/** A server receive time; tests add to it when order matters. */
export const NOW = 1_700_000_100_000;

/** Large enough that the head never moves unless a test means it to. */
export const BIG_SEGMENT = 1_000_000;

export function userRecord(username: string, displayName = username): UserRecord {
  return { id: randomUUID() as UserId, username, displayName, passwordHash: `scrypt$${username}`, createdAt: 1_700_000_000_000 };
}

export async function createUsers(storage: Storage, ...usernames: string[]): Promise<UserRecord[]> {
  const users = usernames.map((username) => userRecord(username));
  for (const user of users) await storage.accounts.createUser(user);
  return users;
}

export async function createGroup(
  storage: Storage,
  owner: UserRecord,
  others: readonly UserRecord[] = [],
  createdAt = 1_700_000_001_000,
): Promise<ConversationRecord> {
  const members: { userId: UserId; role: Role }[] = [
    { userId: owner.id, role: 'owner' },
    ...others.map((user) => ({ userId: user.id, role: 'member' as const })),
  ];
  const { conversation } = await storage.conversations.createConversation({
    id: randomUUID() as ConversationId,
    kind: 'group',
    title: 'a group',
    createdBy: owner.id,
    createdAt,
    members,
  });
  return conversation;
}

export function newMessage(author: UserRecord, segment = 0, body = `hello from ${author.username}`): NewMessage {
  return { id: randomUUID() as MessageId, segment, author: author.id, createdAt: 1_700_000_002_000, body };
}

let entries = 0;

/** An entry's bytes, different on every call, so tests can tell entries apart. */
export function entryBytes(): Uint8Array {
  entries += 1;
  return new TextEncoder().encode(`entry ${entries}`);
}

/**
 * A write that numbers `list` in the segment document of their first message (the server
 * writes a segment's messages to that segment's document).
 */
export function numberingWrite(
  conversationId: ConversationId,
  base: number,
  list: readonly NewMessage[],
  segmentSize = BIG_SEGMENT,
): LogWrite {
  return {
    doc: segmentDoc(conversationId, list[0]?.segment ?? 0),
    base,
    entry: entryBytes(),
    messages: { conversationId, segmentSize, list },
  };
}

/** The outcome of a one-write commit. */
export async function commitOne(log: UpdateLog, write: LogWrite, now = NOW): Promise<CommitOutcome> {
  const [outcome] = await log.commit([write], now);
  if (!outcome) throw new Error('a commit of one write returned no outcome');
  return outcome;
}

/** Narrows an outcome to an accepted one, or fails with what it was instead. */
export function accepted(outcome: CommitOutcome | undefined): Extract<CommitOutcome, { ok: true }> {
  if (!outcome?.ok) throw new Error(`expected the write to be accepted, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The version the log holds for `doc`. */
export async function versionOf(log: UpdateLog, doc: string): Promise<number> {
  return (await log.load(doc)).version;
}

const MAX_ATTEMPTS = 1_000;

/**
 * Commits `write` on top of whatever the log holds, catching up and trying again while other
 * writers get there first — what a server node does when its copy turns out stale.
 */
export async function commitLatest(log: UpdateLog, write: Omit<LogWrite, 'base'>, now = NOW): Promise<Exclude<CommitOutcome, { reason: 'stale' }>> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const outcome = await commitOne(log, { ...write, base: await versionOf(log, write.doc) }, now);
    if (outcome.ok || outcome.reason !== 'stale') return outcome;
  }
  throw new Error(`${write.doc}: still stale after ${MAX_ATTEMPTS} attempts`);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}
