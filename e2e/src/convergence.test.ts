// Three people, two of them offline, write messages, edits, reactions and deletions; they come
// back in random order; every replica converges and the numbers are 1..N without gap or
// duplicate. Seeded: a failure prints the seed, and SEED=<n> replays it.
import { afterAll, describe, expect, it } from 'vitest';
import type { Conversation, OutpostClient } from '@outpost/client';
import type { MessageId } from '@outpost/shared-schema';
import { backends, freshDatabase, random, seeds, signUp, startNode, teardown, until } from './harness.ts';
import { history, numberedOneToN } from './history.ts';

afterAll(teardown);

const EMOJI = ['👍', '🎉', '❤️'];

function randomOp(rng: ReturnType<typeof random>, client: OutpostClient, conversation: Conversation, sent: Map<string, MessageId[]>): void {
  const mine = sent.get(client.user.id) ?? [];
  const all = conversation.messages().get().filter((m) => !m.deleted);
  const roll = rng.next();
  if (roll < 0.55 || mine.length === 0) {
    mine.push(conversation.send(`${client.user.username} #${mine.length + 1} r${rng.int(1000)}`));
    sent.set(client.user.id, mine);
  } else if (roll < 0.7) {
    const target = rng.pick(mine);
    if (!conversation.messages().get().find((m) => m.id === target)?.deleted) conversation.edit(target, `edited ${rng.int(1000)}`);
  } else if (roll < 0.9 && all.length > 0) {
    const target = rng.pick(all);
    const emoji = rng.pick(EMOJI);
    if (target.reactions[emoji]?.includes(client.user.id as never)) conversation.unreact(target.id, emoji);
    else conversation.react(target.id, emoji);
  } else {
    conversation.delete(rng.pick(mine));
  }
}

describe.each(backends)('convergence on %s', (backend) => {
  it.each(seeds([1, 2, 3]))('seed %i: offline writers reconnect in random order and converge on 1..N', async (seed) => {
    const rng = random(seed);
    try {
      const server = await startNode(await freshDatabase(backend));
      const clients = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'cy')];
      const [ada] = clients as [OutpostClient, OutpostClient, OutpostClient];
      const id = await ada.createGroup('field team', clients.slice(1).map((c) => c.user.id));
      const conversations = clients.map((c) => c.conversation(id));
      await until('everyone has the conversation', () => conversations.every((c) => c.meta().get()?.kind === 'group'));

      const offline = rng.shuffle([...clients]).slice(0, 2);
      for (const client of offline) client.disconnect();
      const sent = new Map<string, MessageId[]>();
      for (let step = 0; step < 30; step++) {
        const i = rng.int(clients.length);
        randomOp(rng, clients[i] as OutpostClient, conversations[i] as Conversation, sent);
        if (rng.next() < 0.2) await new Promise((resolve) => setTimeout(resolve, rng.int(20)));
      }
      for (const client of rng.shuffle([...offline])) {
        client.connect();
        await new Promise((resolve) => setTimeout(resolve, rng.int(200)));
      }
      const total = [...sent.values()].reduce((n, ids) => n + ids.length, 0);
      await until(
        'all replicas hold the same history, numbered 1..N',
        () => {
          const [first, ...rest] = conversations.map(history);
          return first !== undefined && first.length === total && numberedOneToN(first) && rest.every((h) => JSON.stringify(h) === JSON.stringify(first));
        },
        () => conversations.map((c) => history(c).map((l) => `${l.seq}:${l.body}:${l.reactions}`)),
      );
      const conversation = await server.storage.conversations.getConversation(id);
      expect(conversation?.lastSeq).toBe(total);
    } catch (error) {
      throw new Error(`seed ${seed} failed; replay with: SEED=${seed} npx vitest run e2e/src/convergence.test.ts\n${(error as Error).message}`, { cause: error });
    }
  });
});
