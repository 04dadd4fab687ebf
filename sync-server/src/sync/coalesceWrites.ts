// Frames sent to one socket within one turn of the event loop leave in one write: an update's
// acknowledgement and the committed entry echoed to its author, the updates of several documents
// flushed in the same turn. ws writes each frame on its own, and on loopback or a LAN every write
// costs a system call, a TCP segment and a wake-up of the reader; the socket is corked at the
// first frame of a turn and uncorked once the turn's sends are done.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

export function coalesceWrites(ws: WebSocket, socket: Duplex): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  ws.send = ((...args: unknown[]) => {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      // After the immediates already queued: Hocuspocus flushes a document's updates in one.
      setImmediate(uncork);
    }
    send(...args);
  }) as WebSocket['send'];
}
