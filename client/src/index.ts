// @outpost/client: the headless Outpost SDK for browsers, Electron and Node.
export { OutpostClient, type OutpostClientOptions, type ConversationListItem, type Failure } from './OutpostClient.ts';
export { Conversation, type Member, type Receipt } from './conversation/Conversation.ts';
export type { MessageItem, MessageStatus } from './conversation/messageOrder.ts';
export type { Live } from './live.ts';
export type { ConnectionStatus, DocumentRefusal } from './connection/SyncConnection.ts';
export { memoryOnly, type ReplicaPersistence } from './replica/DocStore.ts';
export { OutpostError, type ErrorKind } from '@outpost/shared-schema';
