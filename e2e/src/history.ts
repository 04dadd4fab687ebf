// Comparable snapshots of what a user sees, for convergence assertions.
import type { Conversation, MessageItem } from '@outpost/client';

export interface Line {
  seq: number | null;
  id: string;
  author: string;
  body: string;
  deleted: boolean;
  edited: boolean;
  reactions: string;
}

export function line(m: MessageItem): Line {
  const reactions = Object.entries(m.reactions)
    .map(([emoji, users]) => `${emoji}:${[...users].sort().join('+')}`)
    .sort()
    .join(',');
  return { seq: m.seq, id: m.id, author: m.author, body: m.body, deleted: Boolean(m.deleted), edited: m.editedAt !== undefined, reactions };
}

export function history(conversation: Conversation): Line[] {
  return conversation.messages().get().map(line);
}

/** True when every message is numbered and the numbers are exactly 1..N in order. */
export function numberedOneToN(lines: Line[]): boolean {
  return lines.every((l, i) => l.seq === i + 1);
}

/** True when `histories` all hold the same `count` messages, numbered 1..N: the replicas converged. */
export function agreeOnOneToN(histories: Line[][], count: number): boolean {
  const [first, ...rest] = histories;
  return first !== undefined && first.length === count && numberedOneToN(first) && rest.every((h) => JSON.stringify(h) === JSON.stringify(first));
}
