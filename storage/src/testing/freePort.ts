// Throwaway servers that cannot listen on port 0 themselves (postgres, redis-server) are given
// a port that was free a moment ago; their starters retry when another process took it first.
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free when this returned. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}
