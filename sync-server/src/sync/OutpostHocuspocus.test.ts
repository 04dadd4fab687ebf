// A connection that joined a document's copy as it was unloaded is closed to sync again, and,
// closing, does not take the copy loaded since out of the node's list: only the copy a node
// lists under a name is unloaded.
import { describe, expect, it, vi } from 'vitest';
import { Hocuspocus, type Connection, type connectedPayload } from '@hocuspocus/server';
import { decodeRefusal } from '@outpost/shared-schema';
import { OutpostHocuspocus } from './OutpostHocuspocus.ts';
import { SyncEngine } from './SyncEngine.ts';

async function unloadTheOldCopyAgain(instance: Hocuspocus) {
  const open = () => instance.createDocument('conv:x:0', new Request('http://localhost'), 'socket', { readOnly: true, isAuthenticated: true }, {});
  const old = await open();
  await instance.unloadDocument(old);
  const current = await open();
  expect(current).not.toBe(old);
  // What Hocuspocus does when the last connection of the old copy closes.
  await instance.unloadDocument(old);
  return { current, listed: instance.documents.get('conv:x:0') };
}

describe('unloading a document', () => {
  it('leaves the copy loaded since under the name', async () => {
    const { current, listed } = await unloadTheOldCopyAgain(new OutpostHocuspocus({ quiet: true, unloadImmediately: true }));
    expect(listed).toBe(current);
    expect(current.isDestroyed).toBe(false);
  });

  it('(Hocuspocus itself unloads by name: the copy loaded since leaves the list)', async () => {
    const { listed } = await unloadTheOldCopyAgain(new Hocuspocus({ quiet: true, unloadImmediately: true }));
    expect(listed).toBeUndefined();
  });
});

describe('a connection that joined a copy as it was unloaded', () => {
  it('is closed to sync again; one on the listed copy stays', async () => {
    const instance = new OutpostHocuspocus({ quiet: true, unloadImmediately: true });
    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    // Only what the hook reads is real: the instance's list of documents and the logger.
    const engine = new SyncEngine({ storage: {} as never, signer: {} as never, writePath: {} as never, serverDocuments: {} as never, committer: {} as never, coordinator: { store: null } as never, log: quiet });
    engine.attach(instance);
    try {
      const open = () => instance.createDocument('conv:x:0', new Request('http://localhost'), 'socket', { readOnly: true, isAuthenticated: true }, {});
      const old = await open();
      await instance.unloadDocument(old);
      const current = await open();
      const joined = (document: typeof old) => {
        const close = vi.fn();
        const connection = { document, close } as unknown as Connection;
        return { close, payload: { documentName: 'conv:x:0', connection, context: { socket: { id: 'c' } } } as unknown as connectedPayload };
      };
      const stale = joined(old);
      await engine.connected(stale.payload);
      expect(stale.close).toHaveBeenCalledTimes(1);
      const { code, reason } = stale.close.mock.calls[0]?.[0] as { code: number; reason: string };
      expect(code).toBe(4000);
      expect(decodeRefusal(reason)).toMatchObject({ code: 'retry' });
      const live = joined(current);
      await engine.connected(live.payload);
      expect(live.close).not.toHaveBeenCalled();
    } finally {
      await engine.close();
    }
  });
});
