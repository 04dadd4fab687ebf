// What attached files cost (issue 11): making the stored forms of a 12-megapixel phone photo
// (original re-encoded without metadata, display size, thumbnail, placeholder) against decoding
// it once, and uploading through a real node (streamed to disk, hashed, typed, stored, recorded)
// against a raw HTTP PUT of the same bytes into a file on the same machine.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import { OutpostClient } from '@outpost/client';
import { loadConfig, makeImageVariants, startServer } from '@outpost/sync-server';
import { median, printReport, type Measurement } from '../report/Report.ts';

const RUNS = 3;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** A 4000 × 3000 JPEG with enough detail to weigh what a phone photo weighs (a few MB). */
async function photo(): Promise<Buffer> {
  const noise = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 25 } } }).png().toBuffer();
  return sharp(noise).blur(0.6).jpeg({ quality: 88 }).toBuffer();
}

/** A bare HTTP server that writes each PUT body to a file: the floor an upload cannot beat. */
async function rawPutServer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => hash.update(chunk));
    pipeline(req, createWriteStream(path.join(dir, randomUUID()))).then(
      () => res.end(hash.digest('hex')),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function fileUploads(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-bench-files-'));
  try {
    const jpeg = new Uint8Array(await photo()) as Uint8Array<ArrayBuffer>;
    const input = path.join(dir, 'photo.jpg');
    await writeFile(input, jpeg);
    const measurements: Measurement[] = [];

    const decode = await timed(() => sharp(input).raw().toBuffer());
    let round = 0;
    const variants = await timed(async () => {
      const out = path.join(dir, `variants-${round++}`);
      await mkdir(out);
      await makeImageVariants(input, 'jpeg', out, 100_000_000);
    });
    measurements.push({ name: 'stored forms of a 12 MP photo', value: variants, unit: 'ms', baseline: { name: 'decoding it once', value: decode } });

    const dataDir = path.join(dir, 'node');
    const node = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'error', FILES_UPLOADS_PER_MINUTE: '1000' }));
    const raw = await rawPutServer(dir);
    try {
      const ada = await OutpostClient.register({ url: node.url }, { username: `bench${process.pid}`, password: 'correct horse battery' });
      const bob = await OutpostClient.register({ url: node.url }, { username: `benchb${process.pid}`, password: 'correct horse battery' });
      const conversation = await ada.openDirect(bob.user.id);
      const token = ada.session.accessToken;
      const put = (url: string, body: Uint8Array<ArrayBuffer>) =>
        fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body }).then(async (r) => {
          if (!r.ok) throw new Error(`upload failed: ${r.status} ${await r.text()}`);
        });
      const blob = new Uint8Array(randomBytes(20 * 1024 * 1024)) as Uint8Array<ArrayBuffer>;
      const mb = blob.byteLength / 1024 / 1024;
      const rawMs = await timed(() => put(`${raw.url}/x`, blob));
      const outpostMs = await timed(() => put(`${node.url}/api/conversations/${conversation}/files/${randomUUID()}?name=data.bin`, blob));
      measurements.push({ name: 'upload of a 20 MB file', value: mb / (outpostMs / 1000), unit: 'MB/s', baseline: { name: 'raw HTTP PUT to a file', value: mb / (rawMs / 1000) } });
      const rawPhoto = await timed(() => put(`${raw.url}/x`, jpeg));
      const outpostPhoto = await timed(() => put(`${node.url}/api/conversations/${conversation}/files/${randomUUID()}?name=photo.jpg`, jpeg));
      measurements.push({ name: `upload of the photo (${(jpeg.byteLength / 1024 / 1024).toFixed(1)} MB), stored forms included`, value: outpostPhoto, unit: 'ms', baseline: { name: 'raw HTTP PUT', value: rawPhoto } });
      ada.close();
      bob.close();
    } finally {
      await raw.close();
      await node.close();
    }
    printReport('Attached files (sharp re-encoding; uploads through one SQLite node, loopback)', [`median of ${RUNS} runs each`], measurements);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
