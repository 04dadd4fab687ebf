// A conversation of N numbered messages as a long-running client's replica would hold it:
// segments (with the server's sequence numbers), the server document and the inbox. Used in
// Node and in the page.
import * as Y from 'yjs';
import {
  InboxRoots,
  SegmentRoots,
  ServerRoots,
  inboxDoc,
  segmentDoc,
  serverClientId,
  serverDoc,
  writeMessage,
  type ConversationId,
  type MessageId,
  type Session,
  type UserId,
} from '@outpost/shared-schema';

const WORDS = 'pump valve north south sample report truck rain fence meter crew late early shift tank gate road bridge well cable'.split(' ');

export const me = '00000000-0000-4000-8000-0000000000a1' as UserId;
const other = '00000000-0000-4000-8000-0000000000b2' as UserId;
export const conversationId = '00000000-0000-4000-8000-0000000000c3' as ConversationId;

/** A session that never reaches a server: the client starts from its replica alone. */
export const offlineSession: Session = {
  user: { id: me, username: 'bench', displayName: 'Bench' },
  accessToken: 'offline',
  expiresIn: 900,
  refreshToken: 'offline',
  deviceId: '00000000-0000-4000-8000-0000000000d4',
};

/** The id of the message numbered `seq` (in the n-th synthetic conversation). */
export function messageId(seq: number, n = 0): MessageId {
  return `00000000-0000-4000-8${n.toString(16).padStart(3, '0')}-${String(seq).padStart(12, '0')}` as MessageId;
}

/** A word found once in each segment (in its first message), to tell when all of it is searchable. */
export function segmentWord(s: number): string {
  return `zq${s.toString(36)}x`;
}

/** The id of the n-th synthetic conversation (0 is `conversationId`). */
export function conversationIdOf(n: number): ConversationId {
  return n === 0 ? conversationId : (`00000000-0000-4000-8001-${String(n).padStart(12, '0')}` as ConversationId);
}

/** The documents, by name, of one conversation with `messages` numbered messages. */
export function syntheticConversation(messages: number, segmentSize: number, n = 0): Map<string, Y.Doc> {
  const id = conversationIdOf(n);
  const docs = new Map<string, Y.Doc>();
  const segments = Math.ceil(messages / segmentSize);
  let seed = 7;
  const rand = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % k);
  let seq = 0;
  for (let s = 0; s < segments; s++) {
    const content = new Y.Doc();
    // The server writes the numbers under its own client id, into the same segment.
    const numbers = new Y.Doc();
    numbers.clientID = serverClientId(0);
    // Messages arrive one update at a time in real life; one transaction per message keeps that shape.
    for (let i = 0; i < segmentSize && seq < messages; i++) {
      seq += 1;
      const words = Array.from({ length: 4 + rand(12) }, () => WORDS[rand(WORDS.length)]);
      if (i === 0) words.push(segmentWord(s));
      const body = words.join(' ');
      writeMessage(content, messageId(seq, n), { author: seq % 2 ? me : other, createdAt: 1_700_000_000_000 + seq * 1000, body });
      numbers.getMap(SegmentRoots.seq).set(messageId(seq, n), { seq, at: 1_700_000_000_000 + seq * 1000 });
    }
    Y.applyUpdate(content, Y.encodeStateAsUpdate(numbers));
    docs.set(segmentDoc(id, s), content);
  }
  const server = new Y.Doc();
  server.clientID = serverClientId(1);
  const meta = { kind: 'dm', title: '', createdBy: me, createdAt: 1_700_000_000_000, head: segments - 1, lastSeq: messages, segmentSize };
  for (const [key, value] of Object.entries(meta)) server.getMap(ServerRoots.meta).set(key, value);
  docs.set(serverDoc(id), server);
  const inbox = new Y.Doc();
  inbox.clientID = serverClientId(1);
  inbox.getMap(InboxRoots.conversations).set(id, { kind: 'dm', title: 'bench', joinedAt: 1_700_000_000_000 });
  docs.set(inboxDoc(me), inbox);
  return docs;
}
