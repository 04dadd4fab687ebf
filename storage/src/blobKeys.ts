// Blob keys are the SHA-256 of the bytes, in hex: both backends check a key's shape before it
// reaches a path or a query, and check the bytes against it while they store them.
import { createHash } from 'node:crypto';

const KEY = /^[0-9a-f]{64}$/;

export function isBlobKey(value: string): boolean {
  return KEY.test(value);
}

/** Passes `source` through, hashing it; `check()` after the last chunk throws on a mismatch. */
export function verifying(key: string, source: AsyncIterable<Uint8Array>): { chunks: AsyncIterable<Uint8Array>; check(): number } {
  if (!isBlobKey(key)) throw new Error('a blob key is the SHA-256 of its bytes, in lowercase hex');
  const hash = createHash('sha256');
  let size = 0;
  let done = false;
  return {
    chunks: (async function* () {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.byteLength;
        yield chunk;
      }
      done = true;
    })(),
    check() {
      if (!done) throw new Error('the blob was not read to its end');
      const actual = hash.digest('hex');
      if (actual !== key) throw new Error(`the bytes hash to ${actual}, not to the blob key ${key}`);
      return size;
    },
  };
}
