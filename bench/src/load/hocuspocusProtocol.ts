// The plain Hocuspocus baseline's protocol: the same document shapes as Outpost without its
// server-side work. An idle client opens a user, an inbox and a presence document; a member opens
// one document per group (`conv:<uuid>`) and writes each message into its `messages` map. Users and
// groups have UUIDs as Outpost's do, so a message carries the same bytes of content to every
// server and "bytes per message" compares what each protocol adds to them. Acknowledged means the
// server's sync-status reply (applied in memory): replies come in order per document, so the
// n-th reply acknowledges the n-th update.
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { Awareness } from 'y-protocols/awareness';
import { ProviderSocket } from './ProviderSocket.ts';
import type { ClientEnvironment, ClientEvents, ClientPlan, LoadClient, LoadProtocol, ServerSetup } from './protocol.ts';

export const hocuspocusSetup: ServerSetup = {
  numbers: false,
  async prepare(_url, users, groups) {
    return {
      accounts: Array.from({ length: users }, () => ({ userId: randomUUID(), token: '' })),
      groupIds: groups.map(() => `conv:${randomUUID()}`),
    };
  },
};

class HocuspocusLoadClient implements LoadClient {
  readonly #plan: ClientPlan;
  readonly #events: ClientEvents;
  readonly #socket: ProviderSocket;
  readonly #awareness = new Awareness(new Y.Doc());
  readonly #group = new Y.Doc();
  /** Message ids sent and not yet acknowledged, oldest first. */
  readonly #unacknowledged: string[] = [];

  constructor(plan: ClientPlan, environment: ClientEnvironment, events: ClientEvents) {
    this.#plan = plan;
    this.#events = events;
    this.#socket = new ProviderSocket(environment, '/', '', events, { sessionAwareness: false });
  }

  async connect(): Promise<void> {
    const user = this.#plan.account.userId;
    this.#awareness.setLocalState({ typing: null });
    await Promise.all([
      this.#socket.open(`user:${user}`, new Y.Doc()),
      this.#socket.open(`inbox:${user}`, new Y.Doc()),
      this.#socket.open(`presence:${user}`, this.#awareness.doc, { awareness: this.#awareness }),
    ]);
  }

  async join(): Promise<void> {
    const group = this.#plan.group;
    if (!group) throw new Error('this client has no group');
    this.#group.getMap('messages').observe((event, transaction) => {
      if (transaction.local) return;
      for (const [key, change] of event.changes.keys) if (change.action === 'add') this.#events.delivered(key);
    });
    const provider = await this.#socket.open(group.id, this.#group, { settled: true });
    let unsynced = provider.unsyncedChanges;
    provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      for (; unsynced > number; unsynced--) {
        const id = this.#unacknowledged.shift();
        if (id !== undefined) this.#events.acknowledged(id, null);
      }
      unsynced = number;
    });
  }

  send(messageId: string, body: string): void {
    this.#unacknowledged.push(messageId);
    this.#group.getMap('messages').set(messageId, { author: this.#plan.account.userId, createdAt: Date.now(), body });
  }

  close(): void {
    this.#socket.close();
  }
}

export const hocuspocusProtocol: LoadProtocol = {
  createClient: (plan, environment, events) => new HocuspocusLoadClient(plan, environment, events),
};
