// A device on a slow link (GPRS, a satellite terminal: a few KB a second) asks for a document it
// lacks much of, say a segment of 1,000 messages (~300 KB). Hocuspocus answers with one frame,
// which takes longer to arrive than the provider waits for any message before it calls the
// connection dead (30 s): it reconnects, asks again, and never gets the history. So an answer
// larger than PIECE_BYTES goes in pieces instead: updates of at most about PIECE_BYTES each, in
// the order Yjs writes them, then the usual sync step 2 (now only the delete set and whatever
// changed meanwhile). Each piece arrives on its own, keeps the connection alive, and is kept by
// the device: a connection lost half way resumes from what arrived.
//
// The pieces are cut from the document's own structs (a client's run of structs split where a
// piece is full) and written in Yjs's update format (v1, what the sync protocol carries). A piece
// may refer to a struct of a later piece (an edit's origin); Yjs keeps it pending until that
// arrives, as it does for any update out of order.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** An answer larger than this goes in pieces of about this size. */
export const PIECE_BYTES = 16 * 1024;

interface Run {
  client: number;
  clock: number;
  structs: Uint8Array[];
}

/**
 * The part of `doc` a peer at `stateVector` lacks, as updates of about `pieceBytes` each (a single
 * struct larger than that is a piece of its own); null when it fits in one piece. Applying the
 * pieces in order, then a sync step 2 from `Y.encodeStateVector(doc)`, gives the peer the same
 * document as one sync step 2 from `stateVector` would.
 */
export function piecesOfSync(doc: Y.Doc, stateVector: Map<number, number>, pieceBytes = PIECE_BYTES): Uint8Array[] | null {
  const pieces: Run[][] = [];
  let piece: Run[] = [];
  let size = 0;
  let total = 0;
  const scratch = new Y.UpdateEncoderV1();
  // Higher client ids first, as Yjs writes them.
  for (const client of [...doc.store.clients.keys()].sort((a, b) => b - a)) {
    const structs = doc.store.clients.get(client) as (Y.Item | Y.GC)[];
    const last = structs[structs.length - 1];
    const from = stateVector.get(client) ?? 0;
    if (!last || last.id.clock + last.length <= from) continue;
    let index = Y.findIndexSS(structs, from);
    let offset = from - (structs[index] as Y.Item | Y.GC).id.clock;
    let run: Run | null = null;
    for (; index < structs.length; index++) {
      const struct = structs[index] as Y.Item | Y.GC;
      scratch.restEncoder = encoding.createEncoder();
      struct.write(scratch, offset);
      const bytes = scratch.toUint8Array();
      if (run === null) {
        run = { client, clock: struct.id.clock + offset, structs: [] };
        piece.push(run);
      }
      run.structs.push(bytes);
      size += bytes.byteLength;
      total += bytes.byteLength;
      offset = 0;
      if (size >= pieceBytes) {
        pieces.push(piece);
        piece = [];
        size = 0;
        run = null;
      }
    }
  }
  if (piece.length > 0) pieces.push(piece);
  if (total <= pieceBytes) return null;
  return pieces.map(encodePiece);
}

/** One piece in the update format v1: its runs of structs, and an empty delete set. */
function encodePiece(runs: Run[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, runs.length);
  for (const run of runs) {
    encoding.writeVarUint(encoder, run.structs.length);
    encoding.writeVarUint(encoder, run.client);
    encoding.writeVarUint(encoder, run.clock);
    for (const struct of run.structs) encoding.writeUint8Array(encoder, struct);
  }
  encoding.writeVarUint(encoder, 0);
  return encoding.toUint8Array(encoder);
}

/** The state vector a sync step 1 carries, read without moving `decoder`; null for any other sync message. */
export function stepOneStateVector(decoder: decoding.Decoder): Map<number, number> | null {
  const peek = decoding.clone(decoder);
  if (decoding.readVarUint(peek) !== 0) return null;
  return Y.decodeStateVector(decoding.readVarUint8Array(peek));
}

/** A sync step 1 from a peer at `stateVector` (encoded: what it has once the pieces arrived). */
export function stepOneFrom(stateVector: Uint8Array): decoding.Decoder {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint8Array(encoder, stateVector);
  return decoding.createDecoder(encoding.toUint8Array(encoder));
}
