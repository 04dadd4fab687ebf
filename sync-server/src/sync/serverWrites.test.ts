import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { serverClientId } from '@outpost/shared-schema';
import { encodeServerWrite, reconcileOps } from './serverWrites.ts';

const SERVER = serverClientId(1);

/** The server's document and a replica that only ever receives the server's bytes. */
function pair() {
  const doc = new Y.Doc();
  const replica = new Y.Doc();
  const write = (ops: Parameters<typeof encodeServerWrite>[2], deletes: Parameters<typeof encodeServerWrite>[3] = []) => {
    const update = encodeServerWrite(doc, SERVER, ops, deletes);
    if (update) {
      Y.applyUpdate(doc, update);
      Y.applyUpdate(replica, update);
    }
    expect(doc.store.pendingStructs).toBeNull();
    expect(doc.store.pendingDs).toBeNull();
    return update;
  };
  return { doc, replica, write };
}

describe('server writes encoded without touching the document', () => {
  it('set new keys, overwrite them (also twice in one write) and remove them, as Yjs would', () => {
    const { doc, replica, write } = pair();
    write([{ root: 'meta', key: 'a', value: 1 }, { root: 'meta', key: 'b', value: { x: 1 } }]);
    expect(doc.getMap('meta').toJSON()).toEqual({ a: 1, b: { x: 1 } });
    write([{ root: 'meta', key: 'a', value: 2 }, { root: 'meta', key: 'a', value: 3 }, { root: 'meta', key: 'b' }]);
    expect(doc.getMap('meta').toJSON()).toEqual({ a: 3 });
    write([{ root: 'meta', key: 'b', value: 'again' }]);
    expect(replica.getMap('meta').toJSON()).toEqual({ a: 3, b: 'again' });
    expect(Y.encodeStateAsUpdate(replica)).toEqual(Y.encodeStateAsUpdate(doc));
    expect([...doc.store.clients.keys()]).toEqual([SERVER]);
  });

  it('write nothing when there is nothing to change', () => {
    const { write } = pair();
    expect(write([])).toBeNull();
    expect(write([{ root: 'meta', key: 'gone' }])).toBeNull();
  });

  it('delete a client item by id, merged with the client update into one entry', () => {
    const { doc } = pair();
    const client = new Y.Doc();
    client.getMap('edits').set('m', 'x');
    const serverPart = encodeServerWrite(doc, SERVER, [{ root: 'seq', key: 'm', value: { seq: 1 } }], [{ client: client.clientID, clock: 0, len: 1 }]);
    Y.applyUpdate(doc, Y.mergeUpdates([Y.encodeStateAsUpdate(client), serverPart as Uint8Array]));
    expect(doc.getMap('edits').toJSON()).toEqual({});
    expect(doc.getMap('seq').toJSON()).toEqual({ m: { seq: 1 } });
    expect(doc.store.pendingStructs).toBeNull();
  });

  it('reconcile a root to exactly the desired entries', () => {
    const { doc, write } = pair();
    write(reconcileOps(doc, { members: { a: { role: 'owner' }, b: { role: 'member' } } }, ['members']));
    write(reconcileOps(doc, { members: { a: { role: 'owner' }, c: { role: 'admin' } } }, ['members']));
    expect(doc.getMap('members').toJSON()).toEqual({ a: { role: 'owner' }, c: { role: 'admin' } });
    expect(reconcileOps(doc, { members: { a: { role: 'owner' }, c: { role: 'admin' } } }, ['members'])).toEqual([]);
  });
});
