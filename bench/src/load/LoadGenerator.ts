// The load a generator process puts on a server: its share of the simulated clients, messages sent
// at an offered rate (open loop) or as fast as acknowledgements come back (closed loop), and every
// message followed until each other member has it and its author has the acknowledgement.
import { randomUUID } from 'node:crypto';
import { LatencyHistogram } from './LatencyHistogram.ts';
import { countingWebSocket, type WireCount } from './countingWebSocket.ts';
import type { PhaseResult, Progress, Records, RunResult, StepResult } from './commands.ts';
import type { ClientPlan, LoadClient, LoadProtocol } from './protocol.ts';

const FILLER = 'Gate 4 at the north yard is locked again; who has the key? The shift starts at six, bring the radios. ';
/** A 100-character body, different for every message. */
function body(n: number): string {
  return `${n} ${FILLER}${FILLER}`.slice(0, 100);
}

/** How many clients connect or join at once. */
const CONCURRENCY = 50;
/** The open loop's clock: due messages go out every TICK_MS. */
const TICK_MS = 5;

interface SimClient {
  plan: ClientPlan;
  client: LoadClient;
  open: boolean;
}

interface Sent {
  phase: number;
  author: SimClient;
  at: number;
  /** Bit per group slot: who must receive it, who has. */
  expected: number;
  delivered: number;
  ackAt: number;
  seq: number | null;
}

interface Phase {
  deliver: LatencyHistogram;
  deliverSameNode: LatencyHistogram;
  deliverCrossNode: LatencyHistogram;
  ack: LatencyHistogram;
  sent: number;
  deliveries: number;
  acks: number;
  acksWhileSending: number;
  sending: boolean;
  wireAtStart: WireCount;
  cpuAtStart: NodeJS.CpuUsage;
}

export class LoadGenerator {
  readonly #clients: SimClient[];
  readonly #messages = new Map<string, Sent>();
  readonly #phases = new Map<number, Phase>();
  readonly #wire: WireCount = { frames: 0, bytes: 0 };
  /** Group id → its members here, by slot. */
  readonly #groups = new Map<string, SimClient[]>();
  #pendingDeliveries = 0;
  #pendingAcks = 0;
  #duplicates = 0;
  #seqConflicts = 0;
  #strays = 0;
  #refusals = 0;
  readonly #firstRefusals: string[] = [];
  #counter = 0;
  /** The closed loop's phase while it runs: each acknowledgement sends the author's next message. */
  #closedLoop: number | null = null;

  constructor(protocol: LoadProtocol, urls: string[], plans: ClientPlan[]) {
    const WebSocket = countingWebSocket(this.#wire);
    const environments = urls.map((url) => ({ url, WebSocket }));
    this.#clients = plans.map((plan) => {
      const environment = environments[plan.node];
      if (!environment) throw new Error(`client ${plan.index} is on node ${plan.node}, but there are ${urls.length} URLs`);
      const sim = {} as SimClient;
      sim.plan = plan;
      sim.open = false;
      sim.client = protocol.createClient(plan, environment, {
        delivered: (id) => this.#onDelivered(sim, id),
        acknowledged: (id, seq) => this.#onAcknowledged(sim, id, seq),
        refused: (what, reason) => this.#onRefused(sim, what, reason),
      });
      if (plan.group) {
        const members = this.#groups.get(plan.group.id) ?? [];
        members[plan.slot] = sim;
        this.#groups.set(plan.group.id, members);
      }
      return sim;
    });
    for (const [id, members] of this.#groups) {
      const size = members[0]?.plan.group?.size ?? 0;
      if (size > 30 || members.length !== size || members.some((m) => !m)) {
        throw new Error(`group ${id} must have all its members (at most 30) in one generator`);
      }
    }
  }

  async #each(clients: SimClient[], step: (sim: SimClient) => Promise<void>): Promise<StepResult> {
    const result: StepResult = { done: 0, failed: 0, firstError: null };
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < clients.length; i = next++) {
          const sim = clients[i] as SimClient;
          try {
            await step(sim);
            result.done += 1;
          } catch (error) {
            result.failed += 1;
            result.firstError ??= `client ${sim.plan.index}: ${(error as Error).message}`;
          }
        }
      }),
    );
    return result;
  }

  connect(): Promise<StepResult> {
    return this.#each(this.#clients, async (sim) => {
      sim.open = true;
      await sim.client.connect();
    });
  }

  dropIdle(): void {
    for (const sim of this.#clients) {
      if (sim.plan.group || !sim.open) continue;
      sim.open = false;
      sim.client.close();
    }
  }

  join(): Promise<StepResult> {
    return this.#each(
      this.#clients.filter((sim) => sim.plan.group),
      (sim) => sim.client.join(),
    );
  }

  #members(): SimClient[] {
    return this.#clients.filter((sim) => sim.plan.group && sim.open);
  }

  #startPhase(phase: number): Phase {
    const state: Phase = {
      deliver: new LatencyHistogram(),
      deliverSameNode: new LatencyHistogram(),
      deliverCrossNode: new LatencyHistogram(),
      ack: new LatencyHistogram(),
      sent: 0,
      deliveries: 0,
      acks: 0,
      acksWhileSending: 0,
      sending: true,
      wireAtStart: { ...this.#wire },
      cpuAtStart: process.cpuUsage(),
    };
    this.#phases.set(phase, state);
    return state;
  }

  #send(sim: SimClient, phase: number, state: Phase): void {
    const group = sim.plan.group;
    if (!group) return;
    const id = randomUUID();
    const everyone = (1 << group.size) - 1;
    const message: Sent = { phase, author: sim, at: performance.now(), expected: everyone & ~(1 << sim.plan.slot), delivered: 0, ackAt: 0, seq: null };
    this.#messages.set(id, message);
    this.#pendingDeliveries += group.size - 1;
    this.#pendingAcks += 1;
    state.sent += 1;
    sim.client.send(id, body(++this.#counter));
  }

  /** Sends for `durationMs` at `rate` a second (open) or one message in flight per member (closed). */
  async run(phase: number, mode: 'open' | 'closed', rate: number, durationMs: number): Promise<RunResult> {
    const state = this.#startPhase(phase);
    const members = this.#members();
    const started = performance.now();
    if (members.length === 0) return { sent: 0, sendMs: 0 };
    if (mode === 'closed') {
      this.#closedLoop = phase;
      for (const sim of members) this.#send(sim, phase, state);
      await new Promise((resolve) => setTimeout(resolve, durationMs));
      this.#closedLoop = null;
    } else {
      // Senders take turns in a shuffled order, so consecutive messages go to different groups.
      const order = members.map((sim) => ({ sim, key: Math.random() })).sort((a, b) => a.key - b.key).map((e) => e.sim);
      let turn = 0;
      await new Promise<void>((resolve) => {
        const tick = () => {
          const elapsed = performance.now() - started;
          const due = Math.floor((Math.min(elapsed, durationMs) * rate) / 1000);
          while (state.sent < due) this.#send(order[turn++ % order.length] as SimClient, phase, state);
          if (elapsed >= durationMs) resolve();
          else setTimeout(tick, TICK_MS);
        };
        tick();
      });
    }
    state.sending = false;
    return { sent: state.sent, sendMs: performance.now() - started };
  }

  #onDelivered(sim: SimClient, id: string): void {
    // Before the first phase nothing was sent: what arrives is the history of a conversation an
    // earlier run wrote (the two-node run continues the one-node run's conversations).
    if (this.#phases.size === 0) return;
    const message = this.#messages.get(id);
    const bit = 1 << sim.plan.slot;
    if (!message || message.author.plan.group?.id !== sim.plan.group?.id) {
      this.#strays += 1;
      return;
    }
    if (!(message.expected & bit)) return;
    if (message.delivered & bit) {
      this.#duplicates += 1;
      return;
    }
    message.delivered |= bit;
    this.#pendingDeliveries -= 1;
    const state = this.#phases.get(message.phase);
    if (!state) return;
    state.deliveries += 1;
    const latency = performance.now() - message.at;
    state.deliver.record(latency);
    (sim.plan.node === message.author.plan.node ? state.deliverSameNode : state.deliverCrossNode).record(latency);
  }

  #onAcknowledged(sim: SimClient, id: string, seq: number | null): void {
    const message = this.#messages.get(id);
    if (!message || message.author !== sim) return;
    if (message.ackAt) {
      if (message.seq !== seq) this.#seqConflicts += 1;
      return;
    }
    message.ackAt = performance.now();
    message.seq = seq;
    this.#pendingAcks -= 1;
    const state = this.#phases.get(message.phase);
    if (!state) return;
    state.acks += 1;
    state.ack.record(message.ackAt - message.at);
    if (state.sending) state.acksWhileSending += 1;
    if (this.#closedLoop === message.phase) {
      const phase = message.phase;
      setImmediate(() => {
        if (this.#closedLoop === phase) this.#send(sim, phase, state);
      });
    }
  }

  #onRefused(sim: SimClient, what: string, reason: string): void {
    this.#refusals += 1;
    if (this.#firstRefusals.length < 5) this.#firstRefusals.push(`client ${sim.plan.index}, ${what}: ${reason}`);
  }

  progress(): Progress {
    return { pendingDeliveries: this.#pendingDeliveries, pendingAcks: this.#pendingAcks };
  }

  collect(phase: number): PhaseResult {
    const state = this.#phases.get(phase);
    if (!state) throw new Error(`no phase ${phase}`);
    const cpu = process.cpuUsage(state.cpuAtStart);
    return {
      sent: state.sent,
      deliveries: state.deliveries,
      acks: state.acks,
      acksWhileSending: state.acksWhileSending,
      deliver: state.deliver.data(),
      deliverSameNode: state.deliverSameNode.data(),
      deliverCrossNode: state.deliverCrossNode.data(),
      ack: state.ack.data(),
      wire: { frames: this.#wire.frames - state.wireAtStart.frames, bytes: this.#wire.bytes - state.wireAtStart.bytes },
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  records(): Records {
    const groups = new Map<string, Records['groups'][number]>();
    for (const [id, message] of this.#messages) {
      const groupId = message.author.plan.group?.id ?? '';
      let group = groups.get(groupId);
      if (!group) groups.set(groupId, (group = { id: groupId, messages: [] }));
      group.messages.push({ id, seq: message.seq, delivered: message.delivered === message.expected, acknowledged: message.ackAt > 0 });
    }
    return {
      groups: [...groups.values()],
      duplicates: this.#duplicates,
      seqConflicts: this.#seqConflicts,
      strays: this.#strays,
      refusals: this.#refusals,
      firstRefusals: [...this.#firstRefusals],
    };
  }

  close(): void {
    this.#closedLoop = null;
    for (const sim of this.#clients) {
      if (!sim.open) continue;
      sim.open = false;
      sim.client.close();
    }
  }
}
