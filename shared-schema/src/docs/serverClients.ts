// Whose structs are whose: the server writes with Yjs client ids of its own, above any id a
// client picks (Yjs picks 32-bit ids), so "written by the server" is a property of a struct.
// Server-owned documents are rebuilt now and then under a new epoch, with a new server client
// id; a copy that holds structs of two epochs is stale and is replaced, never merged.
import type * as Y from 'yjs';

/** The first server client id; everything at or above it is the server's. */
export const SERVER_CLIENT_BASE = 2 ** 32;

/** The server's Yjs client id in a document at `epoch` (content segments stay at epoch 0). */
export function serverClientId(epoch: number): number {
  return SERVER_CLIENT_BASE + epoch;
}

export function isServerClientId(client: number): boolean {
  return client >= SERVER_CLIENT_BASE;
}

/** The epoch a server client id belongs to; the inverse of {@link serverClientId}. */
export function epochOf(client: number): number {
  return client - SERVER_CLIENT_BASE;
}

/**
 * True when a server-owned document's copy mixes epochs (or holds anything a client wrote):
 * it must be dropped and synced afresh, because merging two rebuilds shows stale values.
 */
export function isStaleServerCopy(doc: Y.Doc): boolean {
  let epochs = 0;
  for (const client of doc.store.clients.keys()) {
    if (!isServerClientId(client)) return true;
    epochs += 1;
  }
  return epochs > 1;
}
