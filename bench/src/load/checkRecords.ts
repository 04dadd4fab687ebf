// The check after every run: each message reached every other member of its group exactly once,
// its author saw it acknowledged exactly once, and (where the server numbers) each group's
// numbers are exactly 1..N: distinct, none outside 1..N, none missing.
import type { Records } from './commands.ts';

/** Returns how many messages were checked and every problem found (none: the run is correct). */
export function checkRecords(records: Records[], numbers: boolean): { messages: number; problems: string[] } {
  const problems: string[] = [];
  let messages = 0;
  let undelivered = 0;
  let unacknowledged = 0;
  for (const part of records) {
    if (part.duplicates) problems.push(`${part.duplicates} messages delivered twice to the same member`);
    if (part.seqConflicts) problems.push(`${part.seqConflicts} messages acknowledged with two different numbers`);
    if (part.strays) problems.push(`${part.strays} deliveries of messages nobody in that group sent`);
    for (const group of part.groups) {
      messages += group.messages.length;
      undelivered += group.messages.filter((m) => !m.delivered).length;
      unacknowledged += group.messages.filter((m) => !m.acknowledged).length;
      if (!numbers) continue;
      // Distinct and within 1..N: once every message is acknowledged, exactly 1..N. (A message
      // never acknowledged is reported once, below, not again as a gap here.)
      const n = group.messages.length;
      const seen = new Set<number>();
      for (const message of group.messages) {
        if (message.seq === null) continue;
        if (!Number.isInteger(message.seq) || message.seq < 1 || message.seq > n) problems.push(`group ${group.id}: number ${message.seq} is outside 1..${n}`);
        else if (seen.has(message.seq)) problems.push(`group ${group.id}: number ${message.seq} was given twice`);
        seen.add(message.seq);
      }
    }
  }
  if (undelivered) problems.push(`${undelivered} messages never reached every other member`);
  if (unacknowledged) problems.push(`${unacknowledged} messages were never acknowledged`);
  return { messages, problems };
}
