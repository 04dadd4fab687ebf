// What every part of the storage contract needs: the instances under test and small builders
// for the records the assertions are about.
import { randomUUID } from 'node:crypto';
import type { ConversationId, MessageId, Role, UserId } from '@outpost/shared-schema';
import type { ConversationRecord, NewMessage, Storage, UserRecord } from '../../Storage.ts';

/** Read inside `it` or `beforeEach`: the values change for every test. */
export interface ContractContext {
  /** The storage under test, on a fresh database, migrated. */
  storage(): Storage;
  /** Another instance on the same database (another pool or connection), migrated. */
  second(): Promise<Storage>;
}

export function userRecord(username: string, displayName = username): UserRecord {
  return { id: randomUUID() as UserId, username, displayName, passwordHash: `scrypt$${username}`, createdAt: 1_700_000_000_000 };
}

export async function createUsers(storage: Storage, ...usernames: string[]): Promise<UserRecord[]> {
  const users = usernames.map((username) => userRecord(username));
  for (const user of users) await storage.createUser(user);
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
  const { conversation } = await storage.createConversation({
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
