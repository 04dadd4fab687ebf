// Presence on the client: a contact's state, relayed by the node only when it changes, stands
// while the socket is open, however long since it came; the provider's close removes it.
import { expect, it, vi } from 'vitest';
import type { UserId } from '@outpost/shared-schema';
import type { SyncConnection } from '../connection/SyncConnection.ts';

it('keeps a contact’s state however long since the node sent it, until the node removes it', async () => {
  // y-protocols drops a state 30 s after its last update by lib0's clock, which is Date.now as it
  // was when lib0 loaded: so the fake clock is installed first, and the modules loaded after it.
  vi.useFakeTimers();
  try {
    const Y = await import('yjs');
    const { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } = await import('y-protocols/awareness');
    const { Presence } = await import('./Presence.ts');
    const me = crypto.randomUUID() as UserId;
    const bob = crypto.randomUUID() as UserId;
    let attached: InstanceType<typeof Awareness> | undefined;
    const connection = { attach: (_name: string, _doc: unknown, options: { awareness: InstanceType<typeof Awareness> }) => void (attached = options.awareness) };
    const presence = new Presence(me, connection as unknown as SyncConnection);
    const awareness = attached!;

    // Bob's state as the node relays it into this client's presence document.
    const relayed = new Awareness(new Y.Doc());
    relayed.setLocalState({ user: { id: bob }, typing: null });
    applyAwarenessUpdate(awareness, encodeAwarenessUpdate(relayed, [relayed.clientID]), 'node');
    expect(presence.online().get()).toEqual([bob]);

    // Two minutes without a word from the node: Bob is still online here.
    await vi.advanceTimersByTimeAsync(120_000);
    expect(presence.online().get()).toEqual([bob]);
    // This client's own state was renewed meanwhile (the node needs that).
    expect(awareness.meta.get(awareness.clientID)!.clock).toBeGreaterThan(1);

    // The node removes Bob's state (he went), or the socket closes (the provider removes them all).
    removeAwarenessStates(awareness, [relayed.clientID], 'node');
    expect(presence.online().get()).toEqual([]);
    relayed.destroy();
    presence.close();
    expect(awareness.getLocalState()).toBeNull();
  } finally {
    vi.useRealTimers();
  }
});
