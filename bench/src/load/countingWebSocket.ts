// The WebSocket every simulated client uses: `ws` (lighter than undici's in Node), counting the
// frames and payload bytes clients receive, which is what a phone on a metered link pays for.
import { WebSocket, type RawData } from 'ws';

export interface WireCount {
  frames: number;
  bytes: number;
}

function size(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.byteLength, 0);
  return data.byteLength;
}

/** A WebSocket class whose instances add what they receive to `count`. */
export function countingWebSocket(count: WireCount): typeof WebSocket {
  return class CountingWebSocket extends WebSocket {
    constructor(url: string | URL) {
      super(url, { perMessageDeflate: false });
      this.on('message', (data: RawData) => {
        count.frames += 1;
        count.bytes += size(data);
      });
    }
  } as typeof WebSocket;
}
