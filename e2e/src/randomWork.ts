// One step of honest work in a conversation, at random, for the convergence generators: send (half
// the time), edit or delete one's own message, react or take a reaction back, mark read.
import type { Conversation, OutpostClient } from '@outpost/client';
import type { MessageId } from '@outpost/shared-schema';
import type { random } from './harness.ts';

const EMOJI = ['👍', '🎉'];

/** Does one thing in `view` as `client`; a message sent is added to `sent`. */
export function workAtRandom(rng: ReturnType<typeof random>, client: OutpostClient, view: Conversation, sent: MessageId[]): void {
  const mine = view.messages().get().filter((m) => m.mine && !m.deleted);
  const live = view.messages().get().filter((m) => !m.deleted);
  const roll = rng.next();
  if (roll < 0.5 || live.length === 0) sent.push(view.send(`${client.user.username} r${rng.int(1_000_000)}`));
  else if (roll < 0.65 && mine.length > 0) view.edit(rng.pick(mine).id, `edited r${rng.int(1000)}`);
  else if (roll < 0.85) {
    const target = rng.pick(live);
    const emoji = rng.pick(EMOJI);
    if (target.reactions[emoji]?.includes(client.user.id as never)) view.unreact(target.id, emoji);
    else view.react(target.id, emoji);
  } else if (roll < 0.93 && mine.length > 0) view.delete(rng.pick(mine).id);
  else view.markRead();
}
