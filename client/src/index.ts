// @outpost/client: the headless Outpost SDK for browsers, Electron and Node.
export { OutpostClient, type OutpostClientOptions, type ConversationListItem, type Failure } from './OutpostClient.ts';
export { Conversation, type Member, type Receipt, type TimelineEvent } from './conversation/Conversation.ts';
export type { MessageItem, MessageStatus } from './conversation/messageOrder.ts';
export type { Live } from './live.ts';
export type { ConnectionStatus, DocumentRefusal } from './connection/SyncConnection.ts';
export { memoryOnly, type ReplicaPersistence } from './replica/DocStore.ts';
export { IndexedDbReplica, replicaName, type IndexedDbReplicaOptions, type RebuildReason } from './replica/IndexedDbReplica.ts';
export { REPLICA_SCHEMA_VERSION, defineLayout, type IndexedDbFactory } from './replica/ReplicaDatabase.ts';
export type { StorageStatus, StorageState } from './replica/StoragePressure.ts';
export type { OutboxEntry } from './replica/Outbox.ts';
export type { PendingOperation, OperationKind } from './replica/PendingOperation.ts';
export type { SyncProgressValue } from './replica/SyncProgress.ts';
export { LocalSearch, type SearchHit, type SearchOptions } from './search/LocalSearch.ts';
export { OutpostError, type ErrorKind } from '@outpost/shared-schema';
export type { LostChange } from './recovery/salvage.ts';
export type { SessionStore } from './connection/api.ts';
