// The server's clock as this device can tell it. A phone in the field often has its clock wrong
// by hours (no network time), and what the SDK dates (a message's creation, an edit) must be on
// the server's clock for everyone else. The server says its time only to the second (a token's
// issue time, a response's Date header), so each reading bounds the offset (server − device)
// between two values; the readings of a run are intersected. While the device's own clock fits
// every reading it is used as it is (to the millisecond: a message stays after the group's
// creation it follows); otherwise the middle of what the readings allow.

/** Offsets (server − device, ms) that every reading so far allows. */
interface Bounds {
  low: number;
  high: number;
}

export class ServerClock {
  #bounds: Bounds | null = null;
  #offsetMs = 0;
  readonly #listeners = new Set<(offsetMs: number) => void>();

  /**
   * The server's clock read `secondStart` (ms, a whole second: it was somewhere in the second
   * that starts there) at some moment between `sentAt` and `receivedAt` on this device's clock.
   */
  observe(secondStart: number, sentAt: number, receivedAt: number): void {
    const low = secondStart - receivedAt;
    const high = secondStart + 1_000 - sentAt;
    const known = this.#bounds;
    // A reading that fits no earlier one means a clock moved (the device's was set): start again.
    this.#bounds = known && low <= known.high && high >= known.low ? { low: Math.max(known.low, low), high: Math.min(known.high, high) } : { low, high };
    const { low: min, high: max } = this.#bounds;
    const offset = min <= 0 && max >= 0 ? 0 : Math.round((min + max) / 2);
    const moved = known === null || Math.abs(offset - this.#offsetMs) > 1_000;
    this.#offsetMs = offset;
    if (moved) for (const listener of this.#listeners) listener(offset);
  }

  /** Uses an offset an earlier run learnt (kept by the app) until this run reads the server's clock. */
  assume(offsetMs: number): void {
    if (this.#bounds === null) this.#offsetMs = offsetMs;
  }

  /** Calls `listener` with the offset when a reading moves it by more than a second (at once when one was read already). */
  onLearnt(listener: (offsetMs: number) => void): void {
    this.#listeners.add(listener);
    if (this.#bounds !== null) listener(this.#offsetMs);
  }

  /** Now on the server's clock, as far as this device can tell; its own clock before any reading. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }
}
