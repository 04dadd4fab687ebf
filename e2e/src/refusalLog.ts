// What the server refused, as a client's socket heard it: every document closed with a reason
// and every authentication denied. The SDK recovers from most refusals without a trace in
// failures(), so "nothing was refused" can only be shown by listening on the wire.
import * as decoding from 'lib0/decoding';

/** One refusal the server sent: the document (name, without the session suffix) and the reason. */
export interface HeardRefusal {
  docName: string;
  reason: string;
}

// Hocuspocus message types and auth sub-types (server → client).
const AUTH = 2;
const PERMISSION_DENIED = 1;
const CLOSE = 7;
/** Socket close codes a client sees without the server refusing anything (closed by us, or lost). */
const ORDINARY_CLOSES = new Set([1000, 1001, 1005, 1006]);

/**
 * A WebSocket class for OutpostClient's `WebSocket` option that records every refusal it
 * receives, and every close of the whole socket with an unusual code (1009: frame too big).
 */
export function listeningWebSocket(): { WebSocket: typeof globalThis.WebSocket; refusals: HeardRefusal[] } {
  const refusals: HeardRefusal[] = [];
  class ListeningWebSocket extends globalThis.WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (event: MessageEvent) => {
        if (!(event.data instanceof ArrayBuffer) || event.data.byteLength < 2) return; // a ping is one byte
        const decoder = decoding.createDecoder(new Uint8Array(event.data));
        const docName = decoding.readVarString(decoder).split('\0')[0] as string;
        const type = decoding.readVarUint(decoder);
        if (type === CLOSE) refusals.push({ docName, reason: decoding.readVarString(decoder) });
        else if (type === AUTH && decoding.readVarUint(decoder) === PERMISSION_DENIED) refusals.push({ docName, reason: decoding.readVarString(decoder) });
      });
      this.addEventListener('close', (event: CloseEvent) => {
        if (!ORDINARY_CLOSES.has(event.code)) refusals.push({ docName: '*', reason: `socket closed with ${event.code} ${event.reason}` });
      });
    }
  }
  return { WebSocket: ListeningWebSocket, refusals };
}
