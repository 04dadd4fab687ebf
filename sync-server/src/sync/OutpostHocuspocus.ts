// Hocuspocus as the node runs it, with two corrections.
//
// How a document is unloaded: a connection that was being set up as its document was unloaded
// (its last other connection had just closed) can join the unloaded copy (SyncEngine.connected
// closes it). When such a connection closes, Hocuspocus unloads "its" document by name, and the
// name now belongs to the copy loaded since: that copy would leave the node's list while devices
// are still connected to it (their later changes would split from everyone else's), and stop
// hearing of other nodes' appends. Only the copy the node lists under a name is ever unloaded.
//
// How a large sync answer is sent: in pieces (syncInPieces.ts), so that a device on a slow link
// gets a long history at all. Hocuspocus answers a sync step 1 inside MessageReceiver, which it
// creates per message and offers no hook around; the answer is cut there, by wrapping
// readSyncMessage once for the process.
import { Hocuspocus, MessageReceiver, OutgoingMessage, type Document } from '@hocuspocus/server';
import { PIECE_BYTES, piecesOfSync, stepOneAt, stepOneStateVector } from './syncInPieces.ts';

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

const readSyncMessage = MessageReceiver.prototype.readSyncMessage;
MessageReceiver.prototype.readSyncMessage = function (message, document, connection, reply, requestFirstSync) {
  const stateVector = connection ? stepOneStateVector(message.decoder) : null;
  const pieces = stateVector ? piecesOfSync(document, stateVector, pieceBytes) : null;
  if (connection && pieces) {
    for (const piece of pieces) connection.send(new OutgoingMessage(connection.messageAddress).createSyncMessage().writeUpdate(piece).toUint8Array());
    // What follows answers as if the peer had asked from where the pieces leave it.
    message.decoder = stepOneAt(document);
  }
  return readSyncMessage.call(this, message, document, connection, reply, requestFirstSync);
};
