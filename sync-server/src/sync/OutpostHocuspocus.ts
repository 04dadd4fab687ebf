// Hocuspocus as the node runs it, with three corrections.
//
// How a document is unloaded: a connection that was being set up as its document was unloaded
// (its last other connection had just closed) can join the unloaded copy (SyncEngine.connected
// closes it). When such a connection closes, Hocuspocus unloads "its" document by name, and the
// name now belongs to the copy loaded since: that copy would leave the node's list while devices
// are still connected to it (their later changes would split from everyone else's), and stop
// hearing of other nodes' appends. Only the copy the node lists under a name is ever unloaded.
//
// How a sync step 1 is answered: in pieces when large (syncInPieces.ts), so that a device on a
// slow link gets a long history at all; and each piece only once the socket's client has read
// most of what it was sent (socketFlow.ts), so that a long history, or the same one asked for
// again and again, never piles up in the node. Hocuspocus answers a sync step 1 inside
// MessageReceiver, which it creates per message and offers no hook around; the answer is made
// there, by wrapping readSyncMessage once for the process.
//
// How an awareness frame is read: without the throwaway Y.Doc and Awareness Hocuspocus makes for
// each (awarenessFrames.ts); the same states reach `beforeHandleAwareness` and the document.
import { Hocuspocus, MessageReceiver, MessageType, OutgoingMessage, type Connection, type Document } from '@hocuspocus/server';
import * as decoding from 'lib0/decoding';
import { applyAwarenessUpdate } from 'y-protocols/awareness';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { awarenessStatesOf, encodeAwarenessStates } from './awarenessFrames.ts';
import { roomToSend } from './socketFlow.ts';
import { PIECE_BYTES, piecesOfSync, stepOneFrom, stepOneStateVector } from './syncInPieces.ts';

export class OutpostHocuspocus extends Hocuspocus {
  override async unloadDocument(document: Document): Promise<void> {
    if (this.documents.get(document.name) !== document) return;
    await super.unloadDocument(document);
  }
}

let pieceBytes = PIECE_BYTES;

/** Sync answers larger than `bytes` go in pieces of about that size, in this process (SYNC_PIECE_BYTES). */
export function sendSyncAnswersInPiecesOf(bytes: number): void {
  pieceBytes = bytes;
}

const apply = MessageReceiver.prototype.apply;
MessageReceiver.prototype.apply = async function (document, connection, reply) {
  const { decoder } = this.message;
  const start = decoder.pos;
  if (decoding.readVarUint(decoder) !== MessageType.Awareness) {
    decoder.pos = start;
    return apply.call(this, document, connection, reply);
  }
  const update = decoding.readVarUint8Array(decoder);
  const origin = connection ? { source: 'connection', connection } : (this.defaultTransactionOrigin ?? { source: 'local' });
  const { states, clocks } = awarenessStatesOf(update);
  await document.callbacks.beforeHandleAwareness(document, states, origin);
  applyAwarenessUpdate(document.awareness, encodeAwarenessStates(states, clocks), origin);
};

const readSyncMessage = MessageReceiver.prototype.readSyncMessage;
MessageReceiver.prototype.readSyncMessage = function (message, document, connection, reply, requestFirstSync) {
  const stateVector = connection ? stepOneStateVector(message.decoder) : null;
  // Updates and sync step 2 as Hocuspocus reads them, at once.
  if (!connection || !stateVector) return readSyncMessage.call(this, message, document, connection, reply, requestFirstSync);
  return answerStepOne(this, message, document, connection, stateVector, reply, requestFirstSync);
};

/**
 * Answers a sync step 1: in pieces when large, each sent once the socket's client has read most
 * of what it was sent (socketFlow.ts), so a long history on a slow link never piles up in the
 * node; then the usual sync step 2, from where the pieces leave the peer. The document's later
 * frames wait behind the answer in Hocuspocus's queue.
 */
async function answerStepOne(
  receiver: MessageReceiver,
  message: Parameters<MessageReceiver['readSyncMessage']>[0],
  document: Document,
  connection: Connection,
  stateVector: Map<number, number>,
  reply: ((message: Uint8Array) => void) | undefined,
  requestFirstSync: boolean | undefined,
): Promise<0 | 1 | 2> {
  const open = () => connection.webSocket.readyState === WebSocket.OPEN;
  await roomToSend(connection.webSocket);
  const pieces = piecesOfSync(document, stateVector, pieceBytes);
  if (pieces) {
    // What the pieces hold: whatever changes while they go out is in the sync step 2 after them.
    const at = Y.encodeStateVector(document);
    for (const piece of pieces) {
      if (!open()) break;
      await roomToSend(connection.webSocket);
      connection.send(new OutgoingMessage(connection.messageAddress).createSyncMessage().writeUpdate(piece).toUint8Array());
    }
    message.decoder = stepOneFrom(at);
  }
  return readSyncMessage.call(receiver, message, document, connection, reply, requestFirstSync);
}
