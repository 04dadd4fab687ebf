// The key that makes a DM unique per pair of users, whoever opens it and in whichever order.
import type { NewConversation } from './Storage.ts';

/**
 * The DM key of a new conversation: its distinct member ids, sorted, joined by ':' ("a:b");
 * null for groups, which may exist many times with the same members.
 */
export function directKey(conversation: NewConversation): string | null {
  if (conversation.kind !== 'dm') return null;
  const ids = [...new Set(conversation.members.map((member) => member.userId))].sort();
  return ids.join(':');
}
