// What one socket can make the node hold in memory, both ways.
//
// In: frames read faster than the socket's byte budget pause its reading, so TCP pushes back on
// the client instead of frames piling up while the write path works through them.
//
// Out: what the node sends waits in the socket's buffer until the client reads it. A client that
// reads slowly or not at all (a stalled link, or one that asks for a long history again and again
// and never reads the answers: thirty bytes in, hundreds of KB held) would make it grow without
// bound. Past `pauseBytes` the node answers no sync request of the socket (`roomToSend`: it waits
// in Hocuspocus's queue of its document) and sends no more history pieces until the buffer has
// drained, so asking more makes it hold no more; a socket that keeps sending frames meanwhile has
// its reading paused too (FRAMES_WHILE_FULL). Past `maxBytes` (what broadcasts to a member who
// never reads add up to) the socket is closed. The device reconnects and syncs what it lacks.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

export const InboundBudget = {
  /** Bytes a socket may send in a burst (a long offline session's sync, several documents). */
  burstBytes: 8 * 1024 * 1024,
  /** Bytes per second it regains. */
  bytesPerSecond: 2 * 1024 * 1024,
} as const;

export interface OutboundBound {
  /** Buffered bytes past which the socket's requests wait (SOCKET_SEND_PAUSE_BYTES). */
  pauseBytes: number;
  /** Buffered bytes past which the socket is closed (SOCKET_SEND_MAX_BYTES). */
  maxBytes: number;
}

/** Pauses a socket's reading while any reason holds it. */
class ReadGate {
  readonly #ws: WebSocket;
  readonly #holds = new Set<'inbound' | 'outbound'>();

  constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  hold(reason: 'inbound' | 'outbound'): void {
    if (this.#holds.size === 0) this.#ws.pause();
    this.#holds.add(reason);
  }

  release(reason: 'inbound' | 'outbound'): void {
    if (!this.#holds.delete(reason) || this.#holds.size > 0) return;
    this.#ws.resume();
  }

  holds(reason: 'inbound' | 'outbound'): boolean {
    return this.#holds.has(reason);
  }
}

/**
 * How long what waits for room may see no byte of its socket reach the client before the socket
 * is let go: a slow link drains (at a few KB a second 4 MiB take minutes, so the wait itself has
 * no deadline), a client that reads nothing while it goes on sending never does.
 */
export const STALLED_MS = 60_000;

/**
 * Frames a socket may send while the node holds more than `pauseBytes` for it before its reading
 * is paused: an honest device sends a few in that time (its presence every 15 s, its own
 * writes), which must still be read, since Hocuspocus lets a socket go that it has heard nothing
 * from for 60 s, and a slow link may take minutes to drain; a flood of requests is many.
 */
const FRAMES_WHILE_FULL = 64;

/**
 * One socket's way out. It is full from when its buffer goes past `pauseBytes` until the buffer
 * has drained: meanwhile sync answers wait (`room`), and a client that keeps sending is no longer
 * read. Past `maxBytes`, or when what waits sees no byte reach the client for STALLED_MS, the
 * socket is destroyed (a close frame would wait behind everything the client does not read).
 */
class OutboundFlow {
  readonly #socket: Duplex & { bytesWritten?: number };
  readonly #gate: ReadGate;
  readonly #bound: OutboundBound;
  readonly #tooSlow: (bufferedBytes: number) => void;
  /** Frames read since the socket went full; null while it is not. */
  #readWhileFull: number | null = null;
  /** Sync answers waiting for room, and the watch that lets a stalled socket go. */
  readonly #waiting: (() => void)[] = [];
  #watch: ReturnType<typeof setInterval> | null = null;

  constructor(ws: WebSocket, socket: Duplex, gate: ReadGate, bound: OutboundBound, tooSlow: (bufferedBytes: number) => void) {
    this.#socket = socket;
    this.#gate = gate;
    this.#bound = bound;
    this.#tooSlow = tooSlow;
    // ws writes each frame to the socket at once, so its buffer can be read right after.
    const send = ws.send.bind(ws) as (...args: unknown[]) => void;
    ws.send = ((...args: unknown[]) => {
      send(...args);
      this.#sent();
    }) as WebSocket['send'];
    socket.once('close', () => this.#drained());
  }

  /** A frame was read from the client. */
  read(): void {
    if (this.#readWhileFull === null) return;
    this.#readWhileFull += 1;
    if (this.#readWhileFull > FRAMES_WHILE_FULL) this.#gate.hold('outbound');
  }

  /** Null when a sync answer may go now; else resolves once the socket has drained or closed. */
  room(stalledMs: number): Promise<void> | null {
    if (this.#readWhileFull === null) return null;
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#watch ??= this.#watchProgress(stalledMs);
    });
  }

  #sent(): void {
    const buffered = this.#socket.writableLength;
    if (buffered <= this.#bound.pauseBytes || this.#socket.destroyed) return;
    if (buffered > this.#bound.maxBytes) return this.#letGo();
    if (this.#readWhileFull !== null) return;
    this.#readWhileFull = 0;
    // 'drain' comes once the buffer is empty (a write was refused on the way up, so it is owed).
    this.#socket.once('drain', () => this.#drained());
  }

  #drained(): void {
    this.#readWhileFull = null;
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = null;
    this.#gate.release('outbound');
    for (const release of this.#waiting.splice(0)) release();
  }

  /** Lets the socket go when nothing of it reaches the client for `stalledMs`. */
  #watchProgress(stalledMs: number): ReturnType<typeof setInterval> {
    // Handed to the kernel so far: what the socket took in, less what still waits in its buffer.
    const sent = () => (this.#socket.bytesWritten ?? 0) - this.#socket.writableLength;
    let written = sent();
    let movedAt = Date.now();
    const watch = setInterval(
      () => {
        if (sent() !== written) {
          written = sent();
          movedAt = Date.now();
        } else if (Date.now() - movedAt >= stalledMs) this.#letGo();
      },
      Math.max(10, stalledMs / 6),
    );
    watch.unref();
    return watch;
  }

  #letGo(): void {
    this.#tooSlow(this.#socket.writableLength);
    this.#socket.destroy();
  }
}

/** The way out of each socket `socketFlow` bounds. */
const flows = new WeakMap<object, OutboundFlow>();

/**
 * Null when the socket of `ws` may be sent a sync answer now; else a promise that resolves once
 * its client has read what waits, or the socket closed (it is destroyed when no byte reaches the
 * client for `stalledMs`). Only sockets `socketFlow` bounds wait.
 */
export function roomToSend(ws: object, stalledMs = STALLED_MS): Promise<void> | null {
  return flows.get(ws)?.room(stalledMs) ?? null;
}

/**
 * Bounds what `ws` (on `socket`) makes the node hold. Returns the function to call with each
 * frame read (its size). `tooSlow` is called once when the socket is let go for not reading.
 */
export function socketFlow(
  ws: WebSocket,
  socket: Duplex,
  options: { inbound?: { burstBytes: number; bytesPerSecond: number }; outbound: OutboundBound; tooSlow: (bufferedBytes: number) => void },
): (bytes: number) => void {
  const gate = new ReadGate(ws);
  const outbound = new OutboundFlow(ws, socket, gate, options.outbound, options.tooSlow);
  flows.set(ws, outbound);
  const inbound = inboundBudget(gate, options.inbound ?? InboundBudget);
  return (bytes) => {
    inbound(bytes);
    outbound.read();
  };
}

/** Returns the function to call with each frame's size; it holds the gate while over budget. */
function inboundBudget(gate: ReadGate, budget: { burstBytes: number; bytesPerSecond: number }): (bytes: number) => void {
  let tokens = budget.burstBytes;
  let at = Date.now();
  return (bytes) => {
    const now = Date.now();
    tokens = Math.min(budget.burstBytes, tokens + ((now - at) / 1000) * budget.bytesPerSecond);
    at = now;
    tokens -= bytes;
    if (tokens >= 0 || gate.holds('inbound')) return;
    gate.hold('inbound');
    const timer = setTimeout(() => gate.release('inbound'), Math.ceil((-tokens / budget.bytesPerSecond) * 1000));
    timer.unref();
  };
}
