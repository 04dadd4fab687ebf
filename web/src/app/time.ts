// How times read in the list and the chat: short, in the user's locale.
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDate = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

const DAY = 86_400_000;

/** Where "now" comes from: the server's clock as the client knows it, once a client runs (setClock). */
let clockSource: () => number = Date.now;

/** Makes `now()` read `source` (the running client's `serverNow`). */
export function setClock(source: () => number): void {
  clockSource = source;
}

/**
 * Now, on the clock message times are on (the server's): "Today", "10 min ago", do-not-disturb
 * and what counts as new are judged by it, not by the device's clock, which can be hours wrong.
 */
export function now(): number {
  return clockSource();
}

function startOfDay(at: number): number {
  const d = new Date(at);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** 14:05 today, "Tue" this week, "3 Mar" before. */
export function listTime(at: number, today = now()): string {
  if (sameDay(at, today)) return clock.format(at);
  if (startOfDay(today) - startOfDay(at) < 6 * DAY) return weekday.format(at);
  return shortDate.format(at);
}

export function messageTime(at: number): string {
  return clock.format(at);
}

export function fullTime(at: number): string {
  return full.format(at);
}

/** "Today", "Yesterday" or the date, for day separators. */
export function dayLabel(at: number, today = now()): string {
  if (sameDay(at, today)) return 'Today';
  if (sameDay(at, today - DAY)) return 'Yesterday';
  return longDate.format(at);
}
