// What the replica tests share: clients of one user that keep their replica in an in-memory
// IndexedDB (fake-indexeddb), so a "restart" is a new client over the same stored bytes.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import * as decoding from 'lib0/decoding';
import { IndexedDbReplica, OutpostClient, type HistoryMode, type IndexedDbFactory } from '@outpost/client';
import type { Session } from '@outpost/shared-schema';

/** A fresh, empty IndexedDB: one "browser profile". */
export function browserProfile(): IndexedDbFactory {
  return { indexedDB: new IDBFactory(), IDBKeyRange };
}

export interface ReplicaClient {
  client: OutpostClient;
  replica: IndexedDbReplica;
  /** Closes the client and its replica connection, as closing the tab or the process would. */
  close(): void;
}

const open: ReplicaClient[] = [];

/**
 * Starts a client on the stored replica of `session`'s user. With `offline`, it never opens a
 * socket until `client.connect()`: a cold start with no network.
 */
export async function startOnReplica(
  url: string,
  session: Session,
  profile: IndexedDbFactory,
  options: { offline?: boolean; compactAfter?: number; WebSocket?: unknown; history?: HistoryMode } = {},
): Promise<ReplicaClient> {
  const replica = await IndexedDbReplica.open({ userId: session.user.id, factory: profile, ...(options.compactAfter ? { compactAfter: options.compactAfter } : {}) });
  const client = await OutpostClient.resume({ url, persistence: replica, ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}), ...(options.history ? { history: options.history } : {}) }, session);
  // Documents attach to the socket only after the replica has loaded them (a later tick), so
  // disconnecting now means no document is synced: as good as no network.
  if (options.offline) client.disconnect();
  let closed = false;
  const handle: ReplicaClient = {
    client,
    replica,
    close: () => {
      if (closed) return;
      closed = true;
      client.close();
      replica.close();
    },
  };
  open.push(handle);
  return handle;
}

/** Closes every replica client still open; call from afterAll before the harness teardown. */
export function closeReplicaClients(): void {
  for (const handle of open.splice(0)) handle.close();
}

/**
 * A WebSocket that counts the Yjs update messages it sends, per document: what a client
 * uploads, as opposed to what it receives or exchanges in the sync handshake.
 */
export function countingWebSocket(): { WebSocket: typeof globalThis.WebSocket; updatesSent: Map<string, number> } {
  const updatesSent = new Map<string, number>();
  class CountingWebSocket extends globalThis.WebSocket {
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
        const decoder = decoding.createDecoder(data instanceof Uint8Array ? data : new Uint8Array(data));
        const docName = decoding.readVarString(decoder).split('\0')[0] as string; // address: name, or name\0session
        // Hocuspocus message type 0 is Sync; inside it, y-protocols' type 2 is an update.
        if (decoding.readVarUint(decoder) === 0 && decoding.readVarUint(decoder) === 2) updatesSent.set(docName, (updatesSent.get(docName) ?? 0) + 1);
      }
      super.send(data);
    }
  }
  return { WebSocket: CountingWebSocket, updatesSent };
}
