// Hocuspocus answers every update a read-only connection sends with a "not stored" sync status,
// and a step 2 it does not find in the document with another. Every Outpost connection is
// read-only (the write path applies what it judged, and says "stored" itself once it is), so
// each message cost its author one frame that says nothing: the provider counts down only
// "stored" statuses and ignores these. They never leave the node (one frame and one socket
// write less per message).
import * as decoding from 'lib0/decoding';
import type { WebSocket } from 'ws';
import { FrameTypes } from './frames.ts';

/** True for a sync status frame that says "not stored": the address, the type, then 0. */
export function isNotStoredStatus(frame: unknown): boolean {
  // Every frame the node sends starts with its address; the shortest status is three bytes.
  if (!(frame instanceof Uint8Array) || frame.byteLength < 3 || frame.byteLength > 1_024) return false;
  const decoder = decoding.createDecoder(frame);
  const end = decoding.readVarUint(decoder) + decoder.pos;
  return end + 2 === frame.byteLength && frame[end] === FrameTypes.syncStatus && frame[end + 1] === 0;
}

/** Drops the "not stored" statuses Hocuspocus sends on `ws`. */
export function dropNotStoredStatus(ws: WebSocket): void {
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  ws.send = ((...args: unknown[]) => {
    if (isNotStoredStatus(args[0])) return;
    send(...args);
  }) as WebSocket['send'];
}
