// Everything the load bench knows about Outpost's protocol, in one place: how accounts and groups
// are made (REST), which documents a client keeps open, how a message is written, how another
// member's message and your own message's number are seen, and what storage must hold after.
//
// Assumes protocol 2 (see shared-schema/src/docs): an idle client opens `user:`, `inbox:` and
// `presence:` (awareness); a member opens `conv:<id>:server` (meta.head, meta.segmentSize) and,
// for the head segment n, `conv:<id>:<n>` (map `messages`, written by members, and map `seq`,
// written by the server in the same update as the message): a message is acknowledged when its
// id appears in `seq`. A new message goes to the server's head segment, or the next one once the
// local copy of the head holds `segmentSize` messages (the SDK's rule, without its outbox).
// Where it costs wire traffic the client does what the SDK does: providers with session routing
// keys; no awareness frame per send (the SDK sends typing only when it changes). Storage is
// checked with `conversations.getConversation(id).lastSeq` and `projection.getMessage(id, messageId).seq`.
// When the write path changes, this file is what the bench changes.
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import {
  Limits,
  PROTOCOL_PARAM,
  PROTOCOL_VERSION,
  inboxDoc,
  presenceDoc,
  readMeta,
  segmentDoc,
  segmentMaps,
  serverDoc,
  userDoc,
  writeMessage,
  type ConversationId,
  type ConversationSummary,
  type MessageId,
  type Session,
  type UserId,
} from '@outpost/shared-schema';
import { ProviderSocket } from './ProviderSocket.ts';
import type { Account, ClientEnvironment, ClientEvents, ClientPlan, LoadClient, LoadProtocol, ServerSetup } from './protocol.ts';

const PASSWORD = 'bench password, not a secret';
/** Sign-ups in flight at once: each costs the server one scrypt hash. */
const SIGNUP_CONCURRENCY = 8;

async function post<T>(url: string, path: string, body: unknown, token?: string): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export const outpostSetup: ServerSetup = {
  numbers: true,

  async prepare(url, users, groups) {
    const accounts: Account[] = new Array<Account>(users);
    const run = `${process.pid.toString(36)}${Date.now().toString(36)}`.slice(-8);
    let next = 0;
    await Promise.all(
      Array.from({ length: SIGNUP_CONCURRENCY }, async () => {
        for (let i = next++; i < users; i = next++) {
          const session = await post<Session>(url, '/api/auth/register', { username: `b${run}u${i}`, password: PASSWORD });
          accounts[i] = { userId: session.user.id, token: session.accessToken };
        }
      }),
    );
    const groupIds: string[] = [];
    for (const [g, members] of groups.entries()) {
      const [owner, ...others] = members.map((i) => accounts[i] as Account);
      if (!owner) throw new Error('a group needs members');
      const conversation = await post<ConversationSummary>(
        url,
        '/api/conversations',
        { kind: 'group', title: `bench group ${g}`, memberIds: others.map((a) => a.userId) },
        owner.token,
      );
      groupIds.push(conversation.id);
    }
    return { accounts, groupIds };
  },

  // Storage is read through @outpost/storage's public API after the node has stopped (opening it
  // applies no migration a stopped node of this version has not applied already).
  async verifyStorage(where, groups) {
    const { openStorage } = await import('@outpost/storage');
    const storage = await openStorage(where);
    const problems: string[] = [];
    let agreeing = 0;
    try {
      for (const group of groups) {
        const id = group.id as ConversationId;
        const conversation = await storage.conversations.getConversation(id);
        if (!conversation) {
          problems.push(`conversation ${id} is not in storage`);
          continue;
        }
        // Never more numbers than messages sent; exactly as many once all are acknowledged.
        const sent = group.messages.length;
        const acknowledged = group.messages.filter((m) => m.seq !== null).length;
        if (conversation.lastSeq > sent || (acknowledged === sent && conversation.lastSeq !== sent)) {
          problems.push(`conversation ${id}: storage numbered up to ${conversation.lastSeq}, clients sent ${group.messages.length}`);
        }
        for (const message of group.messages) {
          const stored = await storage.projection.getMessage(id, message.id as MessageId);
          // A message its author never saw numbered is reported by the generators' check; here it
          // only has to be stored if it was acknowledged.
          if (!stored) {
            if (message.seq !== null) problems.push(`message ${message.id} in ${id} was acknowledged as ${message.seq} but is not in storage`);
          } else if (message.seq !== null && stored.seq !== message.seq) {
            problems.push(`message ${message.id} in ${id}: storage has seq ${stored.seq}, its author saw ${message.seq}`);
          } else if (message.seq !== null) {
            agreeing += 1;
          }
        }
      }
    } finally {
      await storage.close();
    }
    return { agreeing, problems };
  },
};

class OutpostLoadClient implements LoadClient {
  readonly #plan: ClientPlan;
  readonly #events: ClientEvents;
  readonly #socket: ProviderSocket;
  readonly #awareness = new Awareness(new Y.Doc());
  /** Segment number → its content document. */
  readonly #segments = new Map<number, Y.Doc>();
  /** The segment new messages go to: the server's head, or the next one once it is full. */
  #target = 0;
  #segmentSize: number = Limits.segmentSize;

  constructor(plan: ClientPlan, environment: ClientEnvironment, events: ClientEvents) {
    this.#plan = plan;
    this.#events = events;
    this.#socket = new ProviderSocket(environment, `/sync?${PROTOCOL_PARAM}=${PROTOCOL_VERSION}`, plan.account.token, events, {
      sessionAwareness: true,
    });
  }

  get #userId(): UserId {
    return this.#plan.account.userId as UserId;
  }

  async connect(): Promise<void> {
    this.#awareness.setLocalState({ typing: null });
    await Promise.all([
      this.#socket.open(userDoc(this.#userId), new Y.Doc()),
      this.#socket.open(inboxDoc(this.#userId), new Y.Doc()),
      this.#socket.open(presenceDoc(this.#userId), this.#awareness.doc, { awareness: this.#awareness }),
    ]);
  }

  async join(): Promise<void> {
    const group = this.#plan.group;
    if (!group) throw new Error('this client has no group');
    const id = group.id as ConversationId;
    const server = new Y.Doc();
    await this.#socket.open(serverDoc(id), server);
    const meta = readMeta(server);
    if (!meta) throw new Error(`${serverDoc(id)} has no meta after sync`);
    this.#segmentSize = meta.segmentSize;
    this.#target = meta.head;
    server.on('update', () => {
      const head = readMeta(server)?.head ?? 0;
      if (head > this.#target) {
        this.#target = head;
        this.#openSegment(id, head);
      }
    });
    await this.#openSegment(id, meta.head);
  }

  /** Opens segment n (once); resolves when it is synced. */
  #openSegment(id: ConversationId, n: number): Promise<unknown> {
    if (this.#segments.has(n)) return Promise.resolve();
    const content = new Y.Doc();
    this.#segments.set(n, content);
    const maps = segmentMaps(content);
    maps.messages.observe((event, transaction) => {
      if (transaction.local) return;
      for (const [key, change] of event.changes.keys) if (change.action === 'add') this.#events.delivered(key);
    });
    maps.seq.observe((event) => {
      for (const key of event.keysChanged) {
        const entry = maps.seq.get(key);
        if (entry) this.#events.acknowledged(key, entry.seq);
      }
    });
    const opened = this.#socket.open(segmentDoc(id, n), content);
    // Failures are reported through `refused` by the socket; a late segment must not crash the generator.
    opened.catch((error: unknown) => this.#events.refused(segmentDoc(id, n), (error as Error).message));
    return opened;
  }

  send(messageId: string, body: string): void {
    const group = this.#plan.group;
    if (!group) throw new Error('this client has no group');
    let content = this.#segments.get(this.#target);
    if (content && segmentMaps(content).messages.size >= this.#segmentSize) {
      this.#target += 1;
      void this.#openSegment(group.id as ConversationId, this.#target);
      content = this.#segments.get(this.#target);
    }
    if (!content) throw new Error('send before join');
    writeMessage(content, messageId as MessageId, { author: this.#userId, createdAt: Date.now(), body });
  }

  close(): void {
    this.#socket.close();
  }
}

export const outpostProtocol: LoadProtocol = {
  createClient: (plan, environment, events) => new OutpostLoadClient(plan, environment, events),
};
