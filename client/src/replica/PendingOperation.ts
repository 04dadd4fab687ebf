// What the outbox remembers about a user's write until the server has it: enough to list it
// ("3 messages waiting for 2 minutes") and to know when it is settled.
import type { ConversationId, MessageId } from '@outpost/shared-schema';

/** The user actions that wait in the outbox. */
export const OperationKinds = ['send', 'edit', 'delete', 'react', 'unreact', 'read'] as const;
export type OperationKind = (typeof OperationKinds)[number];

/** One user action stored in the replica and not yet acknowledged by the server. */
export interface PendingOperation {
  /** Unique per operation. */
  key: string;
  kind: OperationKind;
  /** The document the change was written into. */
  docName: string;
  conversationId: ConversationId;
  messageId?: MessageId;
  /** When the user did it (ms since the epoch). */
  at: number;
  /** The tab (client instance) that made it; that tab settles it, or the next start does. */
  tab: string;
}
