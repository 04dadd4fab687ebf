// Typing and presence through each client's single presence document: contacts see who is
// online and who types where; someone outside a conversation never learns that you type in it.
import { afterAll, describe, expect, it } from 'vitest';
import { inboxDoc, presenceDoc, userDoc, type UserId } from '@outpost/shared-schema';
import { backends, freshDatabase, signUp, startNode, teardown, until } from './harness.ts';

afterAll(teardown);

describe.each(backends)('presence on %s', (backend) => {
  it('shows typing to members only, and online status to contacts until they leave', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const cyd = await signUp(server.url, 'cyd');
    const dm = await ada.openDirect(bob.user.id);
    const group = await ada.createGroup('all three', [bob.user.id, cyd.user.id]);
    await until('everyone sees ada online', () => bob.online().get().includes(ada.user.id as never) && cyd.online().get().includes(ada.user.id as never), () => [bob.online().get(), cyd.online().get()]);

    ada.conversation(dm).setTyping(true);
    await until('bob sees ada typing in the DM', () => bob.conversation(dm).typing().get().includes(ada.user.id as never));
    // cyd shares a group with ada but is not in the DM: cyd sees neither DM typing nor group typing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(cyd.conversation(dm).typing().get()).toEqual([]);
    expect(cyd.conversation(group).typing().get()).toEqual([]);

    ada.conversation(group).setTyping(true);
    await until('cyd sees ada typing in the group', () => cyd.conversation(group).typing().get().includes(ada.user.id as never));
    await until('bob no longer sees ada typing in the DM', () => bob.conversation(dm).typing().get().length === 0);

    ada.conversation(group).send('done typing'); // sending clears typing
    await until('cyd sees ada stop typing', () => cyd.conversation(group).typing().get().length === 0);

    ada.disconnect();
    await until('bob sees ada go offline', () => !bob.online().get().includes(ada.user.id as never), () => bob.online().get());
  });

  it('keeps awareness timers only where there is awareness (presence documents)', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const me = ada.user.id as UserId;
    const names = [userDoc(me), inboxDoc(me)];
    await until('ada’s user document and inbox are open on the server', () => names.every((name) => server.hocuspocus.documents.get(name)?.isLoading === false));
    type Timer = { _destroyed?: boolean };
    const timerOf = (name: string) => (server.hocuspocus.documents.get(name) as unknown as { awareness: { _checkInterval: Timer } }).awareness._checkInterval;
    for (const name of names) expect(timerOf(name)._destroyed, name).toBe(true);
    await until('and her presence document', () => server.hocuspocus.documents.get(presenceDoc(me))?.isLoading === false);
    expect(timerOf(presenceDoc(me))._destroyed).toBe(false);
  });
});
