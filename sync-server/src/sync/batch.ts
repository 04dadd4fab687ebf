// Which queued updates to one segment can be judged against the same copy and committed together.
// Under load, several members write to a conversation while its last commit is still in flight;
// judging and committing them one at a time makes each wait a whole commit per update ahead of it.
// Updates that touch different messages do not see each other: each one's effect, and so its
// judgement, is the same whether or not the others are in first. Such a run is committed as a
// chain of log entries in one batch; anything else is judged on its own, in queue order.
import type * as Y from 'yjs';
import type { MessageId } from '@outpost/shared-schema';
import { analyzeUpdate, type Analysis } from './analyze.ts';
import { Refused } from './refusals.ts';
import { validateSegment, type SegmentChanges } from './validate.ts';
import type { Submission } from './writePath.ts';

/** How many updates one batch takes at most. */
export const BATCH_LIMIT = 64;

/** An update of the run, judged. */
export interface BatchMember {
  analysis: Analysis;
  changes: SegmentChanges;
}

/**
 * The longest run at the head of `queue` whose updates each integrate into `doc` as it is, pass
 * the rules against it, wait for nothing, write nothing the server must neutralize, and touch
 * messages no other update of the run touches. Judged against the same copy, so a run of one is
 * no gain: the caller judges that one on its own (where holds, retries and refusals live).
 */
export function independentRun(doc: Y.Doc, queue: readonly Submission[]): BatchMember[] {
  const run: BatchMember[] = [];
  const claimed = new Set<MessageId>();
  for (const submission of queue.slice(0, BATCH_LIMIT)) {
    const member = judged(doc, submission);
    if (!member) break;
    const mine = [...member.changes.messages.map(({ id }) => id), ...member.changes.touched];
    if (mine.some((id) => claimed.has(id))) break;
    for (const id of mine) claimed.add(id);
    run.push(member);
  }
  return run;
}

/** The update judged against `doc`, or null when it must be judged on its own. */
function judged(doc: Y.Doc, submission: Submission): BatchMember | null {
  if (submission.docName.kind !== 'segment' || submission.frame !== 'update' || submission.role === null || submission.doc !== doc) return null;
  try {
    const analysis = analyzeUpdate(doc, submission.update);
    if (analysis.empty || !analysis.integrable) return null;
    const changes = validateSegment(doc, analysis, { ...submission.sender, role: submission.role });
    if (changes.waitingFor.size > 0 || changes.neutralize.length > 0) return null;
    return { analysis, changes };
  } catch (error) {
    // Refused on its own, where the log is asked first.
    if (error instanceof Refused) return null;
    throw error;
  }
}
