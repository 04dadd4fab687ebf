// A device with a complete replica restarts after an old message was edited elsewhere: it syncs
// the head and that one old segment, nothing else (the server document's change counters and the
// counters the replica kept say which), and its saved search index answers before any segment
// is read. With history 'replica' the whole history reaches the replica while only the head stays
// in memory.
import { afterAll, describe, expect, it } from 'vitest';
import * as decoding from 'lib0/decoding';
import { segmentDoc, type MessageId } from '@outpost/shared-schema';
import { freshDatabase, signUp, startNode, teardown, until } from './harness.ts';
import { browserProfile, closeReplicaClients, startOnReplica } from './offlineReplica.ts';

afterAll(async () => {
  closeReplicaClients();
  await teardown();
});

/** A WebSocket that notes the documents the client starts a sync handshake for (sync step 1). */
function handshakeWebSocket(): { WebSocket: typeof globalThis.WebSocket; handshakes: Set<string> } {
  const handshakes = new Set<string>();
  class RecordingWebSocket extends globalThis.WebSocket {
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
        const decoder = decoding.createDecoder(data instanceof Uint8Array ? data : new Uint8Array(data));
        const docName = decoding.readVarString(decoder).split('\0')[0] as string;
        // Hocuspocus message type 0 is Sync; inside it, y-protocols' type 0 is step 1.
        if (decoding.readVarUint(decoder) === 0 && decoding.readVarUint(decoder) === 0) handshakes.add(docName);
      }
      super.send(data);
    }
  }
  return { WebSocket: RecordingWebSocket, handshakes };
}

/** Ada writes 50 messages to bob in segments of 10 (the first says "walrus"); the head is 5. */
async function fiftyMessages() {
    const server = await startNode({ ...(await freshDatabase('sqlite')), segmentSize: 10 });
    const ada = await signUp(server.url, 'ada');
    const bob = await signUp(server.url, 'bob');
    const id = await ada.openDirect(bob.user.id);
    const a = ada.conversation(id);
    await until('ada knows the segment size', () => a.meta().get()?.segmentSize === 10);
    const ids: MessageId[] = [];
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 10; i++) ids.push(a.send(`${s === 0 && i === 0 ? 'walrus ' : ''}m${s * 10 + i + 1}`));
      await until(`segment ${s} is numbered`, () => a.messages().get().filter((m) => m.seq !== null).length === (s + 1) * 10);
    }
    await until('the head moved to 5', () => a.meta().get()?.head === 5);
  return { server, ada, bob, id, a, ids };
}

describe('a complete replica across restarts', () => {
  it('re-syncs only the old segment whose counter moved, and searches from the saved index at once', async () => {
    const { server, bob, id, a, ids } = await fiftyMessages();

    // Bob's laptop keeps a complete replica (history 'all').
    const profile = browserProfile();
    const first = await startOnReplica(server.url, bob.session, profile);
    const b1 = first.client.conversation(id);
    await until('bob has the whole history', () => b1.messages().get().length === 50, () => b1.messages().get().length);
    await until('and only the head subscribed', () => b1.subscribedSegments().join() === '5', () => b1.subscribedSegments());
    expect((await first.client.search('walrus')).map((h) => h.messageId)).toEqual([ids[0]]);
    await first.client.stored();
    await first.client.searchSaved();
    first.close();

    // While the laptop is closed, ada edits a message of segment 1 and reacts to one of segment 3.
    a.edit(ids[12] as MessageId, 'm13, edited while bob was away');
    a.react(ids[33] as MessageId, '🎉');
    await until('the server counted both changes', () => {
      const counters = server.hocuspocus.documents.get(`conv:${id}:server`)?.getMap('segments');
      return (counters?.get('1') ?? 0) !== 0 && (counters?.get('3') ?? 0) !== 0;
    });

    // The laptop starts again: searchable from the saved index before anything syncs, then it
    // syncs the server document, the head and exactly the two segments that changed.
    const recording = handshakeWebSocket();
    const second = await startOnReplica(server.url, bob.session, profile, { WebSocket: recording.WebSocket });
    const b2 = second.client.conversation(id);
    await second.client.searchable();
    expect((await second.client.search('walrus')).map((h) => h.messageId)).toEqual([ids[0]]);
    await until('the edit arrived', () => b2.messages().get().find((m) => m.id === ids[12])?.body === 'm13, edited while bob was away');
    await until('the reaction arrived', () => (b2.messages().get().find((m) => m.id === ids[33])?.reactions['🎉']?.length ?? 0) === 1);
    await until('back to the head alone', () => b2.subscribedSegments().join() === '5' && b2.synced(), () => b2.subscribedSegments());
    const segments = [...recording.handshakes].filter((name) => name.startsWith(`conv:${id}:`) && !name.endsWith(':server')).sort();
    expect(segments).toEqual([segmentDoc(id, 1), segmentDoc(id, 3), segmentDoc(id, 5)].sort());
    expect((await second.client.search('edited')).map((h) => h.messageId)).toEqual([ids[12]]);
  }, 120_000);

  // Found by honest sessions seed 75: a reaction made offline on an old message, then a restart
  // before the network came back. The new run subscribed only the head, so the change stayed in
  // the replica, listed as waiting, and never reached the server.
  it.each(['all', 'replica'] as const)("sends after a restart what was changed offline in old segments before it (history '%s')", async (history) => {
    const { server, bob, id, a, ids } = await fiftyMessages();
    const profile = browserProfile();
    const first = await startOnReplica(server.url, bob.session, profile, { history });
    const b1 = first.client.conversation(id);
    await until('bob is in step with the head', () => b1.meta().get()?.head === 5 && b1.synced(), () => b1.meta().get());

    // Offline: a reaction in segment 1, an edit of bob's own message in segment 3 (he writes one first).
    const own = b1.send('bob in segment 5');
    await until('his message is numbered', () => b1.isNumbered(own));
    first.client.disconnect();
    await b1.openAt(ids[12] as MessageId);
    b1.react(ids[12] as MessageId, '🎉');
    await b1.openAt(ids[33] as MessageId);
    b1.react(ids[33] as MessageId, '👍');
    b1.edit(own, 'bob in segment 5, edited offline');
    await first.client.stored();
    first.close();

    // The app starts again, still offline, then the network returns.
    const second = await startOnReplica(server.url, bob.session, profile, { offline: true, history });
    second.client.connect();
    const a1 = a;
    await until(
      'ada sees both reactions and the edit',
      () => {
        const messages = a1.messages().get();
        const reactions = (m: MessageId, emoji: string) => messages.find((x) => x.id === m)?.reactions[emoji]?.length ?? 0;
        return reactions(ids[12] as MessageId, '🎉') === 1 && reactions(ids[33] as MessageId, '👍') === 1 && messages.find((x) => x.id === own)?.body === 'bob in segment 5, edited offline';
      },
      () => ({ subscribed: second.client.conversation(id).subscribedSegments(), waiting: second.client.outbox().get().map((op) => [op.kind, op.docName]) }),
    );
    await until('nothing waits on bob\'s laptop', () => second.client.outbox().get().length === 0, () => second.client.outbox().get());
  }, 120_000);

  it("history 'replica': the whole history reaches the replica and the search index, only the head stays in memory", async () => {
    const { server, bob, id, a, ids } = await fiftyMessages();
    const profile = browserProfile();
    const device = await startOnReplica(server.url, bob.session, profile, { history: 'replica' });
    const b = device.client.conversation(id);
    // Every segment is fetched in the background (segment 0 holds "walrus") and closed again.
    await until('segment 0 reached the replica', async () => (await device.client.search('walrus')).length === 1, () => b.loadedSegments());
    expect((await device.client.search('walrus')).map((h) => h.messageId)).toEqual([ids[0]]);
    let stored: string[] = [];
    const segmentsStored = async () => {
      stored = (await device.replica.documents()).filter((n) => n.startsWith(`conv:${id}:`) && !n.endsWith(':server'));
      return stored.length === 5; // 0..4; the head (5) is empty
    };
    await until('every segment is in the replica', segmentsStored, () => stored);
    // In memory: the head (empty) and the one before it (the latest page), nothing older.
    expect(b.loadedSegments()).toEqual([4, 5]);
    expect(b.messages().get().map((m) => m.id)).toEqual(ids.slice(40));

    // An old message edited on another device: its segment is fetched into the replica again
    // (its counter moved) and the search index follows, still without keeping it in memory.
    a.edit(ids[12] as MessageId, 'm13, edited elsewhere');
    await until('the edit is searchable', async () => (await device.client.search('edited')).map((h) => h.messageId).join() === ids[12], () => device.client.search('edited'));
    await until('and the segment left memory again', () => !b.loadedSegments().includes(1), () => b.loadedSegments());
    expect(b.loadedSegments()).toEqual([4, 5]);

    // Offline, a deep link into segment 1 opens from the replica, with the edit.
    device.client.disconnect();
    await b.openAt(ids[12] as MessageId);
    expect(b.messages().get().find((m) => m.id === ids[12])?.body).toBe('m13, edited elsewhere');
    expect(b.loadedSegments()).toEqual([1, 4, 5]);
    // And scrolling back loads the older ones from the replica, offline.
    expect(await b.loadOlder()).toBe(true);
    expect(b.loadedSegments()).toContain(3);
  }, 120_000);
});
