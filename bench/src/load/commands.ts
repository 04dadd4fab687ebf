// What the orchestrator asks a generator process (over Node's IPC channel) and what it answers.
import type { HistogramData } from './LatencyHistogram.ts';
import type { WireCount } from './countingWebSocket.ts';
import type { ClientPlan } from './protocol.ts';
import type { ServerKey } from './servers.ts';

export type Command =
  /** `urls`: the server's nodes; each client connects to `urls[client.node]`. */
  | { type: 'init'; server: ServerKey; urls: string[]; clients: ClientPlan[] }
  /** Every client opens its socket and what an idle client keeps open. */
  | { type: 'connect' }
  /** Clients without a group close. */
  | { type: 'dropIdle' }
  /** Group members open their group. */
  | { type: 'join' }
  /** Open loop: `rate` messages a second from this generator's members, for `durationMs`. */
  | { type: 'run'; phase: number; mode: 'open'; rate: number; durationMs: number }
  /** Closed loop: every member sends, waits for its acknowledgement, sends again, for `durationMs`. */
  | { type: 'run'; phase: number; mode: 'closed'; durationMs: number }
  | { type: 'progress' }
  | { type: 'collect'; phase: number }
  | { type: 'records' }
  | { type: 'close' };

export interface Request {
  id: number;
  command: Command;
}

export type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface StepResult {
  done: number;
  failed: number;
  firstError: string | null;
}

export interface RunResult {
  sent: number;
  /** How long sending took (the open loop may fall behind when the generator is busy). */
  sendMs: number;
}

export interface Progress {
  /** (message, member) pairs not delivered yet. */
  pendingDeliveries: number;
  pendingAcks: number;
}

export interface PhaseResult {
  sent: number;
  deliveries: number;
  acks: number;
  /** Acknowledgements that arrived while the phase was sending (the closed loop's throughput). */
  acksWhileSending: number;
  deliver: HistogramData;
  /** The same deliveries split by where the receiver sits: on its author's node, or on another. */
  deliverSameNode: HistogramData;
  deliverCrossNode: HistogramData;
  ack: HistogramData;
  /** Received by clients from the start of the phase until it was collected. */
  wire: WireCount;
  /** This generator's CPU time over the same span. */
  cpuMs: number;
}

export interface Records {
  groups: { id: string; messages: { id: string; seq: number | null; delivered: boolean; acknowledged: boolean }[] }[];
  duplicates: number;
  seqConflicts: number;
  /** Deliveries of messages this generator never sent, or to members of another group. */
  strays: number;
  refusals: number;
  firstRefusals: string[];
}
