// The raw relay baseline's protocol (bench/src/baselines/rawRelay.ts): JSON text frames.
// → {t:'join', r}   ← {t:'joined'}
// → {t:'m', r, i, a, b}   others ← the same frame; the sender ← {t:'a', i, s} (s: the room's count)
// Users and rooms have UUIDs, as Outpost's users and groups do (see hocuspocusProtocol.ts).
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { ClientEnvironment, ClientEvents, ClientPlan, LoadClient, LoadProtocol, ServerSetup } from './protocol.ts';

export const rawRelaySetup: ServerSetup = {
  numbers: true,
  async prepare(_url, users, groups) {
    return {
      accounts: Array.from({ length: users }, () => ({ userId: randomUUID(), token: '' })),
      groupIds: groups.map(() => randomUUID()),
    };
  },
};

interface Frame {
  t: 'joined' | 'm' | 'a';
  i?: string;
  s?: number;
}

class RawRelayLoadClient implements LoadClient {
  readonly #plan: ClientPlan;
  readonly #events: ClientEvents;
  readonly #environment: ClientEnvironment;
  #ws: WebSocket | null = null;
  #joined: (() => void) | null = null;

  constructor(plan: ClientPlan, environment: ClientEnvironment, events: ClientEvents) {
    this.#plan = plan;
    this.#environment = environment;
    this.#events = events;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new this.#environment.WebSocket(this.#environment.url.replace(/^http/, 'ws'));
      this.#ws = ws;
      ws.on('open', () => resolve());
      ws.on('error', (error) => reject(error));
      ws.on('close', (code) => {
        if (this.#ws) this.#events.refused('socket', `closed with ${code}`);
      });
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Frame;
        if (frame.t === 'm' && frame.i) this.#events.delivered(frame.i);
        else if (frame.t === 'a' && frame.i) this.#events.acknowledged(frame.i, frame.s ?? null);
        else if (frame.t === 'joined') this.#joined?.();
      });
    });
  }

  join(): Promise<void> {
    const group = this.#plan.group;
    if (!group || !this.#ws) throw new Error('join needs a group and a connection');
    const ws = this.#ws;
    return new Promise((resolve) => {
      this.#joined = resolve;
      ws.send(JSON.stringify({ t: 'join', r: group.id }));
    });
  }

  send(messageId: string, body: string): void {
    this.#ws?.send(JSON.stringify({ t: 'm', r: this.#plan.group?.id, i: messageId, a: this.#plan.account.userId, b: body }));
  }

  close(): void {
    const ws = this.#ws;
    this.#ws = null;
    ws?.close();
  }
}

export const rawRelayProtocol: LoadProtocol = {
  createClient: (plan, environment, events) => new RawRelayLoadClient(plan, environment, events),
};
