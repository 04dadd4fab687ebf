// How times read in the list and the chat: short, in the user's locale.
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDate = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

const DAY = 86_400_000;

function startOfDay(at: number): number {
  const d = new Date(at);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** 14:05 today, "Tue" this week, "3 Mar" before. */
export function listTime(at: number, now = Date.now()): string {
  if (sameDay(at, now)) return clock.format(at);
  if (startOfDay(now) - startOfDay(at) < 6 * DAY) return weekday.format(at);
  return shortDate.format(at);
}

export function messageTime(at: number): string {
  return clock.format(at);
}

export function fullTime(at: number): string {
  return full.format(at);
}

/** "Today", "Yesterday" or the date, for day separators. */
export function dayLabel(at: number, now = Date.now()): string {
  if (sameDay(at, now)) return 'Today';
  if (sameDay(at, now - DAY)) return 'Yesterday';
  return longDate.format(at);
}
