// An awareness frame from a client, read the way Hocuspocus reads it, without what that costs.
//
// Hocuspocus applies each incoming awareness update to a throwaway Y.Doc and Awareness, hands
// their states to `beforeHandleAwareness` (SyncEngine keeps only known fields and sets the
// sender's identity), and applies the states left to the document. A new Y.Doc draws a random
// client id and a random UUID, 32 calls into WebCrypto, and a new Awareness starts a timer: in the
// full server bench (2,000 clients renewing their presence every 15 s) that was 3.5% of the node's
// busy main thread, more than anything else Outpost does for presence. Here the update is decoded
// into the states an empty Awareness would hold after it, and those left are encoded again.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** An awareness state as a client sends it (JSON); null removes the client's state. */
export type AwarenessState = Record<string, unknown>;

/**
 * The states and clocks an empty Awareness would hold after applying `update` (y-protocols'
 * rules: an entry counts when its clock is above the one held, or equal with a null state for a
 * client that has one; a null state removes). Throws on a malformed update, as applying it does.
 */
export function awarenessStatesOf(update: Uint8Array): { states: Map<number, AwarenessState>; clocks: Map<number, number> } {
  const decoder = decoding.createDecoder(update);
  const states = new Map<number, AwarenessState>();
  const clocks = new Map<number, number>();
  const entries = decoding.readVarUint(decoder);
  for (let i = 0; i < entries; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const state = JSON.parse(decoding.readVarString(decoder)) as AwarenessState | null;
    const held = clocks.get(clientId) ?? 0;
    if (!(held < clock || (held === clock && state === null && states.has(clientId)))) continue;
    if (state === null) states.delete(clientId);
    else states.set(clientId, state);
    clocks.set(clientId, clock);
  }
  return { states, clocks };
}

/** An awareness update setting `states`, each at its clock in `clocks`. */
export function encodeAwarenessStates(states: ReadonlyMap<number, AwarenessState>, clocks: ReadonlyMap<number, number>): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, states.size);
  for (const [clientId, state] of states) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clocks.get(clientId) ?? 0);
    encoding.writeVarString(encoder, JSON.stringify(state));
  }
  return encoding.toUint8Array(encoder);
}
