// Tools for the attacker suite: raw Yjs connections and raw frames that the SDK never sends.
import { HocuspocusProvider } from '@hocuspocus/provider';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** How an attempt ended: refused (with the server's reason) or accepted. */
export type Outcome = { refused: true; reason: string } | { refused: false };

/**
 * Opens `docName` with a raw provider, lets `change` write to the synced document, and reports
 * whether the server refused it. Resolves `{ refused: false }` once the server acknowledged.
 */
export function attempt(
  url: string,
  docName: string,
  token: string,
  change: (doc: Y.Doc, sendRaw: (update: Uint8Array) => void) => void,
  prepare?: (doc: Y.Doc) => void,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const doc = new Y.Doc();
    prepare?.(doc);
    let changed = false;
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      provider.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      provider.destroy();
      reject(new Error(`no answer from the server for ${docName}`));
    }, 20_000);
    const provider: HocuspocusProvider = new HocuspocusProvider({
      url: url.replace('http', 'ws') + '/sync',
      name: docName,
      document: doc,
      token,
      onAuthenticationFailed: ({ reason }) => finish({ refused: true, reason }),
      onClose: ({ event }) => {
        if (event.reason) finish({ refused: true, reason: event.reason });
      },
      onSynced: ({ state }) => {
        if (!state || changed) return;
        changed = true;
        // sendRaw puts bytes on the wire as an update, whatever the local document thinks of them.
        change(doc, (update) => provider.documentUpdateHandler(update, null));
        // Acknowledged when the provider has nothing unsynced left (the server applied it).
        const check = () => {
          if (!provider.hasUnsyncedChanges) finish({ refused: false });
        };
        provider.on('unsyncedChanges', check);
        setTimeout(check, 0);
      },
    });
  });
}

/** A raw WebSocket to /sync; resolves with the close code once the server closes it (or null). */
export function rawSocket(url: string): { ws: WebSocket; opened: Promise<void>; closed: Promise<number> } {
  const ws = new WebSocket(url.replace('http', 'ws') + '/sync');
  ws.binaryType = 'arraybuffer';
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('socket error before open')));
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve(event.code)));
  return { ws, opened, closed };
}

/** A Hocuspocus sync-update frame for `docName` carrying `update`. */
export function updateFrame(docName: string, update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, docName);
  encoding.writeVarUint(encoder, 0); // Sync
  encoding.writeVarUint(encoder, 2); // y-protocols update
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** A Hocuspocus sync step 1 frame for `docName` from a client that holds nothing (the server answers with step 2). */
export function syncStep1Frame(docName: string): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, docName);
  encoding.writeVarUint(encoder, 0); // Sync
  encoding.writeVarUint(encoder, 0); // y-protocols step 1
  encoding.writeVarUint8Array(encoder, Y.encodeStateVector(new Y.Doc()));
  return encoding.toUint8Array(encoder);
}

/** Whether `frame` is the server's sync step 2 for `docName`. */
export function isSyncStep2(frame: Uint8Array, docName: string): boolean {
  const decoder = decoding.createDecoder(frame);
  return decoding.readVarString(decoder) === docName && decoding.readVarUint(decoder) === 0 && decoding.readVarUint(decoder) === 1;
}

/** A Hocuspocus auth frame. */
export function authFrame(docName: string, token: string): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, docName);
  encoding.writeVarUint(encoder, 2); // Auth
  encoding.writeVarUint(encoder, 0); // token
  encoding.writeVarString(encoder, token);
  return encoding.toUint8Array(encoder);
}

/** A v1 update of one GC struct whose length is `length`: a few bytes that claim a huge range. */
export function hugeGcUpdate(client: number, length: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1); // clients with structs
  encoding.writeVarUint(encoder, 1); // structs of that client
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, 0); // first clock
  encoding.writeUint8(encoder, 0); // GC
  encoding.writeVarUint(encoder, length);
  encoding.writeVarUint(encoder, 0); // empty delete set
  return encoding.toUint8Array(encoder);
}

/** A v1 update with no structs and one delete range of `length` clocks. */
export function hugeDeleteUpdate(client: number, length: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0); // no structs
  encoding.writeVarUint(encoder, 1); // delete set: one client
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, 1); // one range
  encoding.writeVarUint(encoder, 0); // clock
  encoding.writeVarUint(encoder, length);
  return encoding.toUint8Array(encoder);
}

/** One document opened with a raw provider, for attacks made of several frames. */
export interface RawSession {
  /** The document as the server synced it (what `send` puts on the wire does not change it). */
  doc: Y.Doc;
  /** Sends `update` as an update frame. */
  send(update: Uint8Array): void;
  /** Resolves once the server acknowledged every frame sent so far; rejects with the reason when it refuses the document. */
  acknowledged(): Promise<void>;
  /** Resolves with the reason once the server closes the document. */
  refused: Promise<string>;
  close(): void;
}

/** Opens `docName` as the token's user with its own socket; resolves once synced. */
export function openRaw(url: string, docName: string, token: string): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const doc = new Y.Doc();
    let refusal: string | null = null;
    let onRefused: (reason: string) => void = () => {};
    const refused = new Promise<string>((done) => (onRefused = done));
    const refuse = (reason: string) => {
      refusal ??= reason;
      onRefused(reason);
      reject(new Error(`${docName} was refused before it synced: ${reason}`));
    };
    const timer = setTimeout(() => reject(new Error(`${docName} never synced`)), 20_000);
    const provider: HocuspocusProvider = new HocuspocusProvider({
      url: url.replace('http', 'ws') + '/sync',
      name: docName,
      document: doc,
      token,
      onAuthenticationFailed: ({ reason }) => refuse(reason),
      onClose: ({ event }) => {
        if (event.reason) refuse(event.reason);
      },
      onSynced: ({ state }) => {
        if (!state) return;
        clearTimeout(timer);
        resolve({
          doc,
          send: (update) => provider.documentUpdateHandler(update, null),
          acknowledged: () =>
            new Promise<void>((done, fail) => {
              const check = () => {
                if (refusal !== null) fail(new Error(refusal));
                else if (!provider.hasUnsyncedChanges) done();
                else return;
                provider.off('unsyncedChanges', check);
              };
              provider.on('unsyncedChanges', check);
              void refused.then(check);
              check();
            }),
          refused,
          close: () => provider.destroy(),
        });
      },
    });
  });
}

/** A Hocuspocus awareness frame for `docName`: `entries` in the y-protocols wire format. */
export function awarenessFrame(docName: string, entries: { clientId: number; clock: number; state: object | null }[]): Uint8Array {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, entries.length);
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(update, clientId);
    encoding.writeVarUint(update, clock);
    encoding.writeVarString(update, JSON.stringify(state));
  }
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, docName);
  encoding.writeVarUint(encoder, 1); // Awareness
  encoding.writeVarUint8Array(encoder, encoding.toUint8Array(update));
  return encoding.toUint8Array(encoder);
}

/**
 * A v1 update of one empty GC struct (length 1) under each of `clients`: state-vector bloat. The
 * clients are written as Yjs writes them, highest first (the judge refuses any other order).
 */
export function gcPerClientUpdate(clients: readonly number[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, clients.length);
  for (const client of [...clients].sort((a, b) => b - a)) {
    encoding.writeVarUint(encoder, 1); // one struct
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, 0); // first clock
    encoding.writeUint8(encoder, 0); // GC
    encoding.writeVarUint(encoder, 1);
  }
  encoding.writeVarUint(encoder, 0); // empty delete set
  return encoding.toUint8Array(encoder);
}

/**
 * The longest origin chain one frame can carry within the limits, hand-encoded (v1): `length`
 * map items at `root[key]` alternating between two client ids, each item's origin the item
 * before it (the first one's `after`, when given); all but the last are deleted (empty content), and each deleted item has its own
 * delete range. A validator that walks origins or rescans structs per range pays for it.
 */
export function chainFrame(options: { clients: [number, number]; length: number; root: string; key: string; value: unknown; after?: Y.ID }): Uint8Array {
  const { clients, length, root, key, value, after } = options;
  const clientOf = (k: number) => clients[k % 2] as number;
  const clockOf = (k: number) => Math.floor(k / 2);
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 2); // clients with structs, the higher client id first (as Yjs writes them)
  for (const side of (clients[0] > clients[1] ? [0, 1] : [1, 0])) {
    const items: number[] = [];
    for (let k = side; k < length; k += 2) items.push(k);
    encoding.writeVarUint(encoder, items.length);
    encoding.writeVarUint(encoder, clients[side] as number);
    encoding.writeVarUint(encoder, 0); // first clock
    for (const k of items) {
      const live = k === length - 1;
      const content = live ? 8 : 1; // ContentAny, or ContentDeleted
      if (k === 0 && after) {
        encoding.writeUint8(encoder, content | 0x80); // continues the chain in the document
        encoding.writeVarUint(encoder, after.client);
        encoding.writeVarUint(encoder, after.clock);
      } else if (k === 0) {
        encoding.writeUint8(encoder, content | 0x20); // no origins: parent and key follow
        encoding.writeVarUint(encoder, 1); // the parent is a root type, by name
        encoding.writeVarString(encoder, root);
        encoding.writeVarString(encoder, key);
      } else {
        encoding.writeUint8(encoder, content | 0x80); // an origin: the item before
        encoding.writeVarUint(encoder, clientOf(k - 1));
        encoding.writeVarUint(encoder, clockOf(k - 1));
      }
      encoding.writeVarUint(encoder, 1); // length
      if (live) encoding.writeAny(encoder, value as Parameters<typeof encoding.writeAny>[1]);
    }
  }
  encoding.writeVarUint(encoder, 2); // delete set: both clients, one range per deleted item
  for (const side of [0, 1]) {
    const deleted: number[] = [];
    for (let k = side; k < length - 1; k += 2) deleted.push(clockOf(k));
    encoding.writeVarUint(encoder, clients[side] as number);
    encoding.writeVarUint(encoder, deleted.length);
    for (const clock of deleted) {
      encoding.writeVarUint(encoder, clock);
      encoding.writeVarUint(encoder, 1);
    }
  }
  return encoding.toUint8Array(encoder);
}
