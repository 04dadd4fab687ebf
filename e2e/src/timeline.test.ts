// A group's timeline: who created it, who was added, removed or left, and when it was renamed,
// shown between its messages on every member's device, a new device included, on SQLite and on
// Postgres.
import { afterAll, describe, expect, it } from 'vitest';
import type { Conversation } from '@outpost/client';
import { backends, freshDatabase, secondDevice, signUp, startNode, teardown, until } from './harness.ts';

afterAll(teardown);

const story = (conversation: Conversation) => conversation.events().get().map(({ kind, by, user, title }) => ({ kind, by, user, title }));

describe.each(backends)('the timeline of a group on %s', (backend) => {
  it('records creation, additions, renames, removals and departures in order, for every member and a new device', async () => {
    const server = await startNode(await freshDatabase(backend));
    const [ada, bob, cyd, dan] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'cyd'), await signUp(server.url, 'dan')];
    const group = await ada.createGroup('crew', [bob.user.id]);
    const before = ada.conversation(group).send('before anyone else came');
    await ada.addMembers(group, [cyd.user.id, dan.user.id]);
    await ada.rename(group, 'pump crew');
    await ada.removeMember(group, cyd.user.id);
    await dan.leave(group);

    const expected = [
      { kind: 'created', by: ada.user.id, user: undefined, title: 'crew' },
      { kind: 'added', by: ada.user.id, user: cyd.user.id, title: undefined },
      { kind: 'added', by: ada.user.id, user: dan.user.id, title: undefined },
      { kind: 'renamed', by: ada.user.id, user: undefined, title: 'pump crew' },
      { kind: 'removed', by: ada.user.id, user: cyd.user.id, title: undefined },
      { kind: 'left', by: dan.user.id, user: undefined, title: undefined },
    ];
    for (const [name, client] of [['ada', ada], ['bob', bob], ['ada on a new device', await secondDevice(server.url, ada)]] as const) {
      const conversation = client.conversation(group);
      await until(`${name} sees the whole story`, () => story(conversation).length === expected.length, () => story(conversation));
      expect(story(conversation)).toEqual(expected);
    }
    // Each event has its time, after the message written before it.
    const conversation = bob.conversation(group);
    await until('bob has the first message', () => conversation.messages().get().some((m) => m.id === before));
    const sent = conversation.messages().get().find((m) => m.id === before)?.createdAt ?? Infinity;
    const events = conversation.events().get();
    expect(events[0]!.at).toBeLessThanOrEqual(sent);
    expect(events.slice(1).every((event) => event.at >= sent)).toBe(true);
    // A DM tells no story.
    const dm = await ada.openDirect(bob.user.id);
    await until('the DM is synced', () => ada.conversation(dm).synced() && ada.conversation(dm).meta().get()?.kind === 'dm');
    expect(ada.conversation(dm).events().get()).toEqual([]);
  });
});
