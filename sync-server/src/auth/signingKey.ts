// The HMAC key that signs access tokens: from the environment (many nodes share it), or
// generated on first start and kept under the data directory. Never hard-coded.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function loadSigningKey(dataDir: string, fromEnv: string | undefined): Promise<Uint8Array> {
  if (fromEnv) return new Uint8Array(Buffer.from(fromEnv, 'base64'));
  const file = path.join(dataDir, 'signing-key');
  try {
    const existing = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (existing.length >= 32) return new Uint8Array(existing);
    throw new Error(`${file} holds fewer than 32 bytes; delete it to generate a new key (signs everyone out)`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then we read theirs.
  try {
    await writeFile(file, key.toString('base64'), { flag: 'wx', mode: 0o600 });
    return new Uint8Array(key);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return new Uint8Array(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
  }
}
