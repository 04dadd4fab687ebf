// Bounds what one socket can make the server queue: frames read faster than its byte budget
// pause the socket, so TCP pushes back on the client instead of frames piling up in memory
// while the write path works through them.
import type { WebSocket } from 'ws';

export const InboundBudget = {
  /** Bytes a socket may send in a burst (a long offline session's sync, several documents). */
  burstBytes: 8 * 1024 * 1024,
  /** Bytes per second it regains. */
  bytesPerSecond: 2 * 1024 * 1024,
} as const;

/** Returns the function to call with each frame's size; it pauses `ws` while over budget. */
export function inboundBudget(ws: WebSocket, budget: { burstBytes: number; bytesPerSecond: number } = InboundBudget): (bytes: number) => void {
  let tokens = budget.burstBytes;
  let at = Date.now();
  let paused = false;
  return (bytes) => {
    const now = Date.now();
    tokens = Math.min(budget.burstBytes, tokens + ((now - at) / 1000) * budget.bytesPerSecond);
    at = now;
    tokens -= bytes;
    if (tokens >= 0 || paused) return;
    paused = true;
    ws.pause();
    const timer = setTimeout(() => {
      paused = false;
      ws.resume();
    }, Math.ceil((-tokens / budget.bytesPerSecond) * 1000));
    timer.unref();
  };
}
