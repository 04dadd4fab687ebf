// Typing and presence through each client's single presence document: contacts see who is
// online and who types where; someone outside a conversation never learns that you type in it.
import { afterAll, describe, expect, it } from 'vitest';
import { inboxDoc, presenceDoc, userDoc, type UserId } from '@outpost/shared-schema';
import { authFrame, awarenessFrame, isSyncStep2, rawSocket, syncStep1Frame } from './attacker.ts';
import { backends, freshDatabase, onlineWhileIdle, signUp, startNode, teardown, until } from './harness.ts';

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

    // cyd shares a group with ada but is not in the DM: cyd never sees her DM typing, in the DM or
    // in the group. Every value cyd's two views take is kept until cyd sees her group typing: her
    // presence reaches cyd in order, so by then every earlier change has too.
    const dmSeen: string[] = [];
    const groupSeen: string[] = [];
    const stopDm = cyd.conversation(dm).typing().subscribe((typing) => dmSeen.push(JSON.stringify(typing)));
    const stopGroup = cyd.conversation(group).typing().subscribe((typing) => groupSeen.push(JSON.stringify(typing)));
    const bobSeesDmTyping = () => bob.conversation(dm).typing().get().includes(ada.user.id as never);
    ada.conversation(dm).setTyping(true);
    await until('bob sees ada typing in the DM', bobSeesDmTyping);
    // On, off and on again: a leak into cyd's group view would show there as a change back and forth.
    ada.conversation(dm).setTyping(false);
    await until('bob sees ada stop typing in the DM', () => !bobSeesDmTyping());
    ada.conversation(dm).setTyping(true);
    await until('bob sees ada typing in the DM again', bobSeesDmTyping);

    ada.conversation(group).setTyping(true);
    await until('cyd sees ada typing in the group', () => cyd.conversation(group).typing().get().includes(ada.user.id as never));
    stopDm();
    stopGroup();
    expect(dmSeen.filter((typing) => typing !== '[]')).toEqual([]);
    expect(groupSeen.filter((typing, i) => i === 0 || typing !== groupSeen[i - 1])).toEqual(['[]', JSON.stringify([ada.user.id])]);
    await until('bob no longer sees ada typing in the DM', () => bob.conversation(dm).typing().get().length === 0);

    ada.conversation(group).send('done typing'); // sending clears typing
    await until('cyd sees ada stop typing', () => cyd.conversation(group).typing().get().length === 0);

    ada.disconnect();
    await until('bob sees ada go offline', () => !bob.online().get().includes(ada.user.id as never), () => bob.online().get());
  });

  it('keeps awareness only where there is awareness: user documents and inboxes hold none, run no timer, and still sync', async () => {
    const server = await startNode(await freshDatabase(backend));
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const me = ada.user.id as UserId;
    const names = [userDoc(me), inboxDoc(me)];
    const loaded = (name: string) => server.hocuspocus.documents.get(name)?.isLoading === false;
    await until('ada’s user document, inbox and presence document are open on the server', () => [...names, presenceDoc(me)].every(loaded));
    type Timer = { _destroyed?: boolean };
    const awarenessOf = (name: string) => server.hocuspocus.documents.get(name)!.awareness as unknown as { _checkInterval?: Timer; getStates(): Map<number, unknown> };
    // One shared awareness without a timer for both (and for everyone's), a live one for presence,
    // whose own timer is stopped: one sweep times out the silent clients of every presence document.
    for (const name of names) expect(awarenessOf(name)._checkInterval, name).toBeUndefined();
    expect(awarenessOf(userDoc(me))).toBe(awarenessOf(inboxDoc(me)));
    expect(awarenessOf(presenceDoc(me))._checkInterval?._destroyed).toBe(true);

    // Awareness sent to her user document (a raw client on its own socket) is dropped, and keeps nothing.
    const socket = rawSocket(server.url);
    await socket.opened;
    let answered = false;
    socket.ws.addEventListener('message', (event: MessageEvent<ArrayBuffer>) => {
      answered ||= isSyncStep2(new Uint8Array(event.data), userDoc(me));
    });
    socket.ws.send(authFrame(userDoc(me), ada.session.accessToken));
    socket.ws.send(awarenessFrame(userDoc(me), [{ clientId: 77, clock: 1, state: { typing: null } }]));
    // A connection's frames are handled in order: once a sync step 1 sent after it is answered,
    // the awareness frame has been handled.
    socket.ws.send(syncStep1Frame(userDoc(me)));
    await until('the server answers the raw socket’s sync step 1', () => answered);
    expect(server.hocuspocus.documents.get(userDoc(me))!.getConnectionsCount()).toBe(2);
    expect(awarenessOf(userDoc(me)).getStates().size).toBe(0);
    socket.ws.close();
    await socket.closed;

    // Her inbox still takes what the server writes, and her presence still reaches a contact.
    const dm = await bob.openDirect(me);
    await until('ada’s inbox lists the DM bob opened', () => ada.conversations().get().some((c) => c.id === dm), () => ada.conversations().get());
    await until('bob sees ada online', () => bob.online().get().includes(me), () => bob.online().get());

    // Unloaded and loaded again (she leaves and comes back), the documents get the shared one again.
    ada.disconnect();
    await until('ada’s documents are unloaded', () => names.every((name) => !server.hocuspocus.documents.has(name)));
    ada.connect();
    await until('and loaded again', () => names.every(loaded));
    for (const name of names) expect(awarenessOf(name)._checkInterval, name).toBeUndefined();
    await until('bob sees ada online again', () => bob.online().get().includes(me), () => bob.online().get());
  });
});

// The node relays a state when it changes, not its 15 s renewals; both ends keep what they hold
// while the renewals come and the socket is open (y-protocols alone drops a state 30 s after its
// last update). The relay is the same on both backends.
it('keeps a contact online past the 30 s a silent state lasts, while nothing changes', { timeout: 90_000 }, async () => {
  const server = await startNode(await freshDatabase('sqlite'));
  const ada = await signUp(server.url, 'ada');
  const bob = await signUp(server.url, 'bob');
  await ada.openDirect(bob.user.id);
  expect(await onlineWhileIdle(bob, ada, 40_000)).toEqual(new Set([JSON.stringify([ada.user.id])]));
});
