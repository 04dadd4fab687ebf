import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom as random } from '../search/testing/seededRandom.ts';
import { ServerClock } from './serverClock.ts';

const realNow = Date.now;
afterEach(() => {
  Date.now = realNow;
});

/** Reads the server's clock `readings` times through calls of random length; device time starts at `start`. */
function readServer(clock: ServerClock, next: () => number, offsetMs: number, start: number, readings: number): number {
  let device = start;
  for (let i = 0; i < readings; i++) {
    device += Math.floor(next() * 20_000);
    const sentAt = device;
    const travel = Math.floor(next() * 400);
    const server = sentAt + travel + offsetMs;
    const receivedAt = sentAt + travel + Math.floor(next() * 400);
    clock.observe(Math.floor(server / 1000) * 1000, sentAt, receivedAt);
    device = receivedAt;
  }
  return device;
}

describe('ServerClock', () => {
  it('keeps the device’s own clock, to the millisecond, while it fits every reading (500 generated runs)', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const next = random(seed);
      const clock = new ServerClock();
      const device = readServer(clock, next, 0, 1_800_000_000_000, 1 + Math.floor(next() * 20));
      Date.now = () => device;
      expect(clock.now()).toBe(device);
    }
  });

  it('finds a wrong clock’s offset to within a second, however far off (500 generated runs)', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const next = random(seed);
      const offset = Math.round((next() - 0.5) * 2 * 12 * 3_600_000);
      const clock = new ServerClock();
      const device = readServer(clock, next, offset, 1_800_000_000_000, 1 + Math.floor(next() * 20));
      Date.now = () => device;
      expect(Math.abs(clock.now() - (device + offset)), `seed ${seed}, offset ${offset}`).toBeLessThanOrEqual(1_000);
    }
  });

  it('starts again when the device’s clock is set, and tells its listeners; an offset from before holds until the first reading', () => {
    const clock = new ServerClock();
    const heard: number[] = [];
    clock.onLearnt((offset) => heard.push(offset));
    clock.assume(7_200_000);
    Date.now = () => 1_000;
    expect(clock.now()).toBe(7_201_000);
    const next = random(7);
    let device = readServer(clock, next, 3_600_000, 1_800_000_000_000, 5);
    Date.now = () => device;
    expect(Math.abs(clock.now() - (device + 3_600_000))).toBeLessThanOrEqual(1_000);
    // The device's clock is set right: later readings fit none before.
    device = readServer(clock, next, 0, device + 3_600_000, 5);
    Date.now = () => device;
    expect(clock.now()).toBe(device);
    expect(heard).toHaveLength(2);
    expect(Math.abs((heard[0] as number) - 3_600_000)).toBeLessThanOrEqual(1_000);
    expect(heard[1]).toBe(0);
    clock.assume(5);
    expect(clock.now()).toBe(device);
  });
});
