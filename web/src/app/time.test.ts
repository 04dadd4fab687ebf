import { afterEach, describe, expect, it } from 'vitest';
import { dayLabel, listTime, now, setClock } from './time.ts';

afterEach(() => setClock(Date.now));

describe('times in the app', () => {
  it('judge "Today" on the clock message times are on, not on a device clock hours ahead', () => {
    // 23:00 on the server's clock; the device's own clock says 03:00 the next day.
    const server = new Date(2026, 10, 27, 23, 0).getTime();
    const message = new Date(2026, 10, 27, 22, 30).getTime();
    const realNow = Date.now;
    Date.now = () => server + 4 * 3_600_000;
    try {
      setClock(() => server);
      expect(now()).toBe(server);
      expect(dayLabel(message)).toBe('Today');
      expect(listTime(message)).toMatch(/30/);
      setClock(Date.now);
      expect(dayLabel(message)).toBe('Yesterday');
    } finally {
      Date.now = realNow;
    }
  });
});
