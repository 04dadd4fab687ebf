// Notification settings live in the user document, so every device of a user agrees: a mute or a
// do-not-disturb set on one device (offline too) reaches the others through the real server,
// which accepts these writes and nothing else in those maps.
import { afterAll, describe, expect, it } from 'vitest';
import type { ConversationId } from '@outpost/shared-schema';
import { freshDatabase, secondDevice, signUp, startNode, teardown, until } from '../harness.ts';

afterAll(teardown);

describe('notification settings', () => {
  it('a mute and do-not-disturb set offline on one device reach the other device', async () => {
    const server = await startNode(await freshDatabase('sqlite'));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const dm = await ada.openDirect(bob.user.id);
    const group = await ada.createGroup('crew', [bob.user.id]);
    const phone = await secondDevice(server.url, ada);
    await until('the phone knows both conversations', () => phone.conversations().get().length === 2);
    await until('the defaults: every message in a DM, mentions in a group', () =>
      phone.conversation(dm).notifyLevel().get() === 'all' && phone.conversation(group).notifyLevel().get() === 'mentions',
    );
    expect(phone.preferences().get()).toEqual({ dndUntil: 0, sound: false });

    ada.disconnect();
    const until8 = Date.now() + 8 * 3_600_000;
    ada.conversation(group).setNotifyLevel('none');
    ada.setNotifyLevel(dm as ConversationId, 'mentions');
    ada.setPreference('dndUntil', until8);
    ada.setPreference('sound', true);
    expect(ada.conversation(group).notifyLevel().get()).toBe('none'); // at once, offline
    ada.connect();

    await until('the phone follows', () =>
      phone.conversation(group).notifyLevel().get() === 'none' &&
      phone.conversation(dm).notifyLevel().get() === 'mentions' &&
      phone.preferences().get().dndUntil === until8 && phone.preferences().get().sound,
      () => [phone.notifyLevels().get(), phone.preferences().get()],
    );
    expect([...phone.notifyLevels().get()].sort()).toEqual([[dm, 'mentions'], [group, 'none']].sort());

    // Back to the default on the phone: the laptop follows, and nothing was refused on the way.
    phone.conversation(group).setNotifyLevel(undefined);
    await until('the laptop is back to mentions for the group', () => ada.conversation(group).notifyLevel().get() === 'mentions');
    expect([...ada.failures(), ...phone.failures()]).toEqual([]);
    for (const client of [ada, bob, phone]) client.close();
  });
});
