// The check after every run: each message reached every other member of its group exactly once,
// its author saw it acknowledged exactly once, and (where the server numbers) each group's
// numbers are exactly 1..N.
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
      const seqs = group.messages.map((m) => m.seq ?? 0).sort((a, b) => a - b);
      const wrong = seqs.findIndex((seq, i) => seq !== i + 1);
      if (wrong >= 0) problems.push(`group ${group.id}: numbers are not 1..${seqs.length} (number ${wrong + 1} in order is ${seqs[wrong] || 'missing'})`);
    }
  }
  if (undelivered) problems.push(`${undelivered} messages never reached every other member`);
  if (unacknowledged) problems.push(`${unacknowledged} messages were never acknowledged`);
  return { messages, problems };
}
