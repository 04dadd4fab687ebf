// @mentions count by user id, through real nodes: a mention of @bob counts for bob and never for
// bobby, whose username only starts the same, and a mention that ends a sentence still counts.
import { afterAll, describe, expect, it } from 'vitest';
import { OutpostClient } from '@outpost/client';
import { backends, freshDatabase, startNode, teardown, until } from './harness.ts';

afterAll(teardown);

describe.each(backends)('mentions on %s', (backend) => {
  it('count for the user named, by id, and not for one whose name only starts the same', async () => {
    const server = await startNode(await freshDatabase(backend));
    const name = `bob${process.pid}`;
    const register = (username: string) => OutpostClient.register({ url: server.url }, { username, password: 'correct horse battery' });
    const [ada, bob, bobby] = [await register(`ada${process.pid}`), await register(name), await register(`${name}by`)];
    try {
      const id = await ada.createGroup('crew', [bob.user.id, bobby.user.id]);
      const group = ada.conversation(id);
      await until('ada knows the members', () => group.members().get().filter((m) => m.username).length === 3);
      const first = group.send(`@${name} can you check the pump?`);
      group.send(`thanks @${name}.`);
      group.send(`@${name}by your turn tomorrow`);
      group.send(`no mention of ${name} here, nor of x@${name}`);
      const entry = (client: OutpostClient) => client.conversations().get().find((c) => c.id === id);
      await until('bob and bobby have all four', () => entry(bob)?.unread === 4 && entry(bobby)?.unread === 4, () => [entry(bob), entry(bobby)]);
      expect(entry(bob)?.mentions).toBe(2);
      expect(entry(bobby)?.mentions).toBe(1);
      // The message carries who it mentions, by id.
      const sent = ada.conversation(id).messages().get().find((m) => m.id === first);
      expect(sent?.mentions).toEqual([bob.user.id]);
    } finally {
      for (const client of [ada, bob, bobby]) client.close();
    }
  });
});
