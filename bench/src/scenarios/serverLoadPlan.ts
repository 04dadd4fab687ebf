// The sizes of a server load run: the full run of issue 9, a quick one (under 3 minutes) and the
// tiny one the test suite runs so the bench cannot break silently.
import { serverKeys, type ServerKey } from '../load/servers.ts';

export interface LoadPlan {
  name: 'full' | 'quick' | 'tiny';
  servers: ServerKey[];
  /** Clients in groups (the load), in groups of `groupSize`. */
  clients: number;
  groupSize: number;
  /** Clients connected at once for the idle measurement (the first `clients` of them join groups later). */
  idleClients: number;
  generators: number;
  /** The steady phase: offered messages a second, after a warm-up at the same rate. */
  steadyRate: number;
  warmupMs: number;
  steadyMs: number;
  /** Offered rates tried in turn until one fails (p99 deliver > 100 ms, or something lost). */
  steps: number[];
  stepMs: number;
  closedLoopMs: number;
  /** Idle: time to settle after connecting, then the window CPU is measured over. */
  idleSettleMs: number;
  idleWindowMs: number;
  /** After the steady phase and the closed loop: how long everything may take to arrive. */
  drainMs: number;
  /** After a step: how long everything may take to arrive (longer means it failed anyway). */
  stepDrainMs: number;
  /** An overloaded server gets this long to catch up before the next phase; then the run stops. */
  recoverMs: number;
  sqliteMs: number;
  /** Outpost's SEGMENT_SIZE; null keeps the server's default. */
  segmentSize: number | null;
  /**
   * The two-node run (issue 10): the first `clients` clients over one Postgres and one Redis, on
   * one node and then split over two, each at `rate` msg/s for a warm-up and a steady phase. The
   * rate is low (1–2 messages a second per group) on purpose: it measures what the hop between
   * nodes adds, which a node short of CPU would drown.
   */
  cluster: { rate: number; warmupMs: number; steadyMs: number };
}

const steps = [350, 700, 1_400, 2_800, 5_600];

export const plans: Record<LoadPlan['name'], LoadPlan> = {
  full: {
    name: 'full',
    servers: serverKeys,
    clients: 1_000,
    groupSize: 10,
    idleClients: 2_000,
    generators: 2,
    steadyRate: 350,
    warmupMs: 5_000,
    steadyMs: 30_000,
    steps,
    stepMs: 10_000,
    closedLoopMs: 15_000,
    idleSettleMs: 3_000,
    idleWindowMs: 10_000,
    drainMs: 60_000,
    stepDrainMs: 5_000,
    recoverMs: 120_000,
    sqliteMs: 3_000,
    segmentSize: null,
    cluster: { rate: 100, warmupMs: 5_000, steadyMs: 30_000 },
  },
  quick: {
    name: 'quick',
    servers: serverKeys,
    clients: 200,
    groupSize: 10,
    idleClients: 400,
    generators: 2,
    steadyRate: 350,
    warmupMs: 2_000,
    steadyMs: 8_000,
    steps,
    stepMs: 3_000,
    closedLoopMs: 5_000,
    idleSettleMs: 1_000,
    idleWindowMs: 3_000,
    drainMs: 15_000,
    stepDrainMs: 3_000,
    recoverMs: 20_000,
    sqliteMs: 1_000,
    segmentSize: null,
    cluster: { rate: 40, warmupMs: 2_000, steadyMs: 8_000 },
  },
  tiny: {
    name: 'tiny',
    servers: serverKeys,
    clients: 40,
    groupSize: 10,
    idleClients: 60,
    generators: 2,
    steadyRate: 40,
    warmupMs: 500,
    steadyMs: 1_500,
    steps: [40, 80],
    stepMs: 1_000,
    closedLoopMs: 1_000,
    idleSettleMs: 300,
    idleWindowMs: 700,
    drainMs: 10_000,
    stepDrainMs: 3_000,
    recoverMs: 10_000,
    sqliteMs: 200,
    // Small segments, so the tiny run also writes across segment boundaries as a long chat does.
    segmentSize: 25,
    cluster: { rate: 40, warmupMs: 500, steadyMs: 1_500 },
  },
};
