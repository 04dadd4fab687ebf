// Document names are the only free-form strings that reach storage keys and Redis channels,
// so they are parsed strictly here, once, on both sides of the wire.

export type UserId = string & { readonly __brand: 'UserId' };
export type ConversationId = string & { readonly __brand: 'ConversationId' };
export type MessageId = string & { readonly __brand: 'MessageId' };
export type DeviceId = string & { readonly __brand: 'DeviceId' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Segment numbers stay small; a cap keeps a hostile name from naming segment 1e300. */
export const MAX_SEGMENT = 1_000_000;

export type DocName =
  | { kind: 'segment'; conversationId: ConversationId; segment: number }
  | { kind: 'server'; conversationId: ConversationId }
  | { kind: 'user'; userId: UserId }
  | { kind: 'inbox'; userId: UserId }
  | { kind: 'presence'; userId: UserId };

export type DocKind = DocName['kind'];

/** Formats a document name; `parseDocName` is its inverse. */
export function formatDocName(name: DocName): string {
  switch (name.kind) {
    case 'segment': return `conv:${name.conversationId}:${name.segment}`;
    case 'server': return `conv:${name.conversationId}:server`;
    case 'user': return `user:${name.userId}`;
    case 'inbox': return `inbox:${name.userId}`;
    case 'presence': return `presence:${name.userId}`;
  }
}

const SEGMENT_NUMBER = /^(0|[1-9][0-9]{0,6})$/;

/** Parses a document name, or returns null for anything that is not exactly one of ours. */
export function parseDocName(raw: string): DocName | null {
  if (raw.length > 100) return null;
  const parts = raw.split(':');
  const [prefix, id] = parts;
  if (!isUuid(id)) return null;
  if (prefix === 'conv') {
    const conversationId = id as ConversationId;
    if (parts.length === 3 && parts[2] === 'server') return { kind: 'server', conversationId };
    const segmentText = parts[2];
    if (segmentText === undefined || !SEGMENT_NUMBER.test(segmentText)) return null;
    const segment = Number(segmentText);
    if (segment > MAX_SEGMENT) return null;
    if (parts.length === 3) return { kind: 'segment', conversationId, segment };
    return null;
  }
  if (parts.length !== 2) return null;
  if (prefix === 'user') return { kind: 'user', userId: id as UserId };
  if (prefix === 'inbox') return { kind: 'inbox', userId: id as UserId };
  if (prefix === 'presence') return { kind: 'presence', userId: id as UserId };
  return null;
}

export const segmentDoc = (conversationId: ConversationId, segment: number): string =>
  formatDocName({ kind: 'segment', conversationId, segment });
export const serverDoc = (conversationId: ConversationId): string =>
  formatDocName({ kind: 'server', conversationId });
export const userDoc = (userId: UserId): string => formatDocName({ kind: 'user', userId });
export const inboxDoc = (userId: UserId): string => formatDocName({ kind: 'inbox', userId });
export const presenceDoc = (userId: UserId): string => formatDocName({ kind: 'presence', userId });
