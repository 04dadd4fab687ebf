// Attached files through the real server, on SQLite and on Postgres: uploads are typed from their
// bytes, images come back re-encoded without their GPS position, nothing but a re-encoded image is
// ever shown inline, limits answer with the right kind, only current members read a file, and a
// message is numbered only with files its author uploaded to that conversation. On Postgres, a
// file uploaded through one node is read through another.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { OutpostClient } from '@outpost/client';
import { segmentDoc, writeDeletion, writeMessage, type AttachmentEntry, type ConversationId, type MessageId, type UserId } from '@outpost/shared-schema';
import type { OutpostServer } from '@outpost/sync-server';
import { attempt } from './attacker.ts';
import { animatedGif, gpsOf, gradientPng, htmlPage, pdf, photoWithGps, pngBomb, program, svgWithScript } from './fileFixtures.ts';
import { backends, freshDatabase, signUp, startNode, teardown, until, type Backend } from './harness.ts';

afterAll(teardown);

const MAX_BYTES = 2_000_000;
const MAX_PIXELS = 20_000_000;
const QUOTA = 5_000_000;
const UPLOADS_PER_MINUTE = 30;
const settings = {
  FILES_MAX_BYTES: String(MAX_BYTES),
  FILES_MAX_IMAGE_PIXELS: String(MAX_PIXELS),
  FILES_QUOTA_BYTES: String(QUOTA),
  FILES_UPLOADS_PER_MINUTE: String(UPLOADS_PER_MINUTE),
};

/** Uploads `bytes` as `name`, claiming `contentType` (which the server ignores). */
async function put(
  base: string,
  client: OutpostClient,
  conversationId: string,
  bytes: Uint8Array,
  name: string,
  options: { id?: string; contentType?: string; streamed?: boolean } = {},
): Promise<Response> {
  const id = options.id ?? randomUUID();
  const body = options.streamed
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.byteLength; at += 64 * 1024) controller.enqueue(bytes.slice(at, at + 64 * 1024));
          controller.close();
        },
      })
    : bytes;
  return fetch(`${base}/api/conversations/${conversationId}/files/${id}?name=${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${client.session.accessToken}`, 'content-type': options.contentType ?? 'application/octet-stream' },
    body,
    ...(options.streamed ? { duplex: 'half' } : {}),
  } as RequestInit);
}

async function uploaded(base: string, client: OutpostClient, conversationId: string, bytes: Uint8Array, name: string, contentType?: string): Promise<AttachmentEntry> {
  const response = await put(base, client, conversationId, bytes, name, contentType ? { contentType } : {});
  const body = (await response.json()) as AttachmentEntry;
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body;
}

function get(base: string, client: OutpostClient, conversationId: string, fileId: string, variant: string, query = ''): Promise<Response> {
  return fetch(`${base}/api/conversations/${conversationId}/files/${fileId}/${variant}${query}`, { headers: { authorization: `Bearer ${client.session.accessToken}` } });
}

async function bytesOf(response: Response): Promise<Uint8Array> {
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

async function errorOf(response: Response): Promise<{ status: number; kind: string; message: string; details?: Record<string, unknown> }> {
  const body = (await response.json()) as { error: { kind: string; message: string; details?: Record<string, unknown> } };
  return { status: response.status, ...body.error };
}

describe.each(backends)('attached files on %s', (backend: Backend) => {
  let server: OutpostServer;
  let ada: OutpostClient;
  let bob: OutpostClient;
  let carol: OutpostClient;
  let dave: OutpostClient; // in no conversation of theirs
  let group: ConversationId;

  beforeAll(async () => {
    server = await startNode({ ...(await freshDatabase(backend)), env: settings });
    [ada, bob, carol, dave] = [await signUp(server.url, 'ada'), await signUp(server.url, 'bob'), await signUp(server.url, 'carol'), await signUp(server.url, 'dave')];
    group = await ada.createGroup('site crew', [bob.user.id, carol.user.id]);
  });

  it('strips EXIF and the GPS position from a photo, turns it upright and serves it inline to members', async () => {
    const photo = await photoWithGps(1200, 800);
    expect(await gpsOf(photo)).toMatchObject({ GPSLatitudeRef: 'N', GPSLongitudeRef: 'E' }); // the fixture does carry it
    const entry = await uploaded(server.url, ada, group, photo, 'pump.jpg', 'image/jpeg');
    // Orientation 6: shown 800 wide and 1200 high, as the message says.
    expect(entry).toMatchObject({ name: 'pump.jpg', type: 'image/jpeg', width: 800, height: 1200 });
    expect(entry.placeholder).toMatch(/^data:image\/webp;base64,/);

    for (const [variant, type] of [['original', 'image/jpeg'], ['display', 'image/jpeg'], ['thumb', 'image/webp']] as const) {
      const response = await get(server.url, bob, group, entry.id, variant);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('content-security-policy')).toContain('sandbox');
      expect(response.headers.get('content-disposition')).toMatch(/^inline; filename="pump.jpg"/);
      const served = await bytesOf(response);
      expect(await gpsOf(served)).toBeNull();
      expect(Buffer.from(served).includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(false);
      const shape = await sharp(served).metadata();
      expect(shape.orientation ?? 1).toBe(1);
      expect((shape.height ?? 0) > (shape.width ?? 0)).toBe(true);
      if (variant === 'original') expect([shape.width, shape.height, Number(response.headers.get('content-length'))]).toEqual([800, 1200, entry.size]);
      if (variant === 'thumb') expect(Math.max(shape.width ?? 0, shape.height ?? 0)).toBeLessThanOrEqual(640);
    }
    const download = await get(server.url, bob, group, entry.id, 'original', '?download');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(await get(server.url, bob, group, randomUUID(), 'original')).toHaveProperty('status', 404);
  });

  it('keeps a lossless image’s pixels exactly, and a document’s bytes exactly', async () => {
    const png = await gradientPng();
    const image = await uploaded(server.url, bob, group, png, 'plan.png');
    const served = await bytesOf(await get(server.url, ada, group, image.id, 'original'));
    const raw = (bytes: Uint8Array) => sharp(bytes).removeAlpha().raw().toBuffer();
    expect((await raw(served)).equals(await raw(png))).toBe(true);

    const document = await uploaded(server.url, bob, group, pdf, 'Wartungsplan März.pdf');
    expect(document).toEqual({ id: document.id, name: 'Wartungsplan März.pdf', type: 'application/pdf', size: pdf.byteLength });
    const response = await get(server.url, carol, group, document.id, 'original');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="Wartungsplan M_rz.pdf"; filename*=UTF-8''Wartungsplan%20M%C3%A4rz.pdf`);
    expect(await bytesOf(response)).toEqual(pdf);
    expect(await errorOf(await get(server.url, carol, group, document.id, 'thumb'))).toMatchObject({ status: 404, kind: 'notFound' });
  });

  it('keeps an animated GIF moving, with a still thumbnail', async () => {
    const entry = await uploaded(server.url, ada, group, await animatedGif(), 'blink.gif');
    expect(entry).toMatchObject({ type: 'image/gif', width: 40, height: 30 });
    const original = await bytesOf(await get(server.url, bob, group, entry.id, 'original'));
    expect(await sharp(original, { animated: true }).metadata()).toMatchObject({ format: 'gif', pages: 3, width: 40, pageHeight: 30 });
    const thumb = await bytesOf(await get(server.url, bob, group, entry.id, 'thumb'));
    const still = await sharp(thumb, { animated: true }).metadata();
    expect([still.format, still.pages ?? 1]).toEqual(['webp', 1]);
  });

  it('never serves HTML named .png or an SVG with a script as an image: they are text, downloaded', async () => {
    for (const [bytes, name, claimed] of [[htmlPage, 'cute-cat.png', 'image/png'], [svgWithScript, 'logo.svg', 'image/svg+xml']] as const) {
      const entry = await uploaded(server.url, ada, group, bytes, name, claimed);
      expect(entry).toEqual({ id: entry.id, name, type: 'text/plain', size: bytes.byteLength });
      const response = await get(server.url, bob, group, entry.id, 'original');
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await bytesOf(response)).toEqual(bytes);
    }
  });

  it('refuses a decompression bomb, an oversized file (declared or streamed) and a program, each with its kind', async () => {
    const bomb = pngBomb(6000, 6000); // 36 megapixels in about 35 KB
    expect(bomb.byteLength).toBeLessThan(100_000);
    expect(await errorOf(await put(server.url, ada, group, bomb, 'bomb.png'))).toMatchObject({ status: 413, kind: 'tooLarge', details: { maxPixels: MAX_PIXELS } });
    const big = new Uint8Array(randomBytes(MAX_BYTES + 1));
    expect(await errorOf(await put(server.url, ada, group, big, 'big.bin'))).toMatchObject({ status: 413, kind: 'tooLarge', details: { maxBytes: MAX_BYTES } });
    expect(await errorOf(await put(server.url, ada, group, big, 'big.bin', { streamed: true }))).toMatchObject({ status: 413, kind: 'tooLarge', details: { maxBytes: MAX_BYTES } });
    const refused = await errorOf(await put(server.url, ada, group, program, 'tool'));
    expect(refused).toMatchObject({ status: 400, kind: 'invalidInput' });
    expect(refused.details?.allowed).toMatch(/images .* any other file/);
    expect(await errorOf(await put(server.url, ada, group, new Uint8Array(), 'empty.txt'))).toMatchObject({ status: 400, kind: 'invalidInput' });
    expect(await errorOf(await put(server.url, ada, group, pdf, 'x.pdf', { id: '../../etc/passwd' }))).toMatchObject({ status: 404 });
    expect(await errorOf(await put(server.url, ada, group, pdf, 'x.pdf', { id: 'not-a-uuid' }))).toMatchObject({ status: 400, kind: 'invalidInput' });
  });

  it('lets only current members read or upload: a stranger and a removed member get 403', async () => {
    const entry = await uploaded(server.url, ada, group, pdf, 'roster.pdf');
    expect((await get(server.url, carol, group, entry.id, 'original')).status).toBe(200);
    expect(await errorOf(await get(server.url, dave, group, entry.id, 'original'))).toMatchObject({ status: 403, kind: 'forbidden' });
    expect(await errorOf(await put(server.url, dave, group, pdf, 'x.pdf'))).toMatchObject({ status: 403, kind: 'forbidden' });
    // Read through a conversation dave is in: the file is not there.
    const daves = await dave.openDirect(ada.user.id);
    expect(await errorOf(await get(server.url, dave, daves, entry.id, 'original'))).toMatchObject({ status: 404, kind: 'notFound' });
    expect((await fetch(`${server.url}/api/conversations/${group}/files/${entry.id}/original`)).status).toBe(401);

    const crew = await ada.createGroup('night shift', [carol.user.id]);
    const shared = await uploaded(server.url, ada, crew, pdf, 'shifts.pdf');
    expect((await get(server.url, carol, crew, shared.id, 'original')).status).toBe(200);
    await ada.removeMember(crew, carol.user.id);
    expect(await errorOf(await get(server.url, carol, crew, shared.id, 'original'))).toMatchObject({ status: 403, kind: 'forbidden' });
  });

  it('stores an upload once: the owner retrying gets the stored file, anyone else gets a conflict', async () => {
    const id = randomUUID();
    const first = await put(server.url, ada, group, pdf, 'once.pdf', { id });
    expect(first.status).toBe(201);
    const entry = (await first.json()) as AttachmentEntry;
    const usage = await server.storage.files.usage(ada.user.id as UserId);
    const retried = await put(server.url, ada, group, pdf, 'once.pdf', { id });
    expect([retried.status, await retried.json()]).toEqual([200, entry]);
    expect(await server.storage.files.usage(ada.user.id as UserId)).toBe(usage);
    expect(await errorOf(await put(server.url, bob, group, pdf, 'mine.pdf', { id }))).toMatchObject({ status: 409, kind: 'conflict' });
  });

  it('numbers a message only with files its author uploaded to that conversation, as stored; deleting it deletes them', async () => {
    const mine = await uploaded(server.url, bob, group, pdf, 'mine.pdf');
    const adas = await uploaded(server.url, ada, group, pdf, 'adas.pdf');
    const other = await ada.createGroup('elsewhere', [bob.user.id]);
    const elsewhere = await uploaded(server.url, bob, other, pdf, 'elsewhere.pdf');
    const doc = segmentDoc(group, 0);
    const author = bob.user.id as UserId;
    const send = (attachments: AttachmentEntry[], id = randomUUID() as MessageId) =>
      attempt(server.url, doc, bob.session.accessToken, (d) => writeMessage(d, id, { author, createdAt: Date.now(), body: '', attachments }));

    for (const forged of [
      [adas], // someone else's file
      [elsewhere], // another conversation's
      [{ ...mine, id: randomUUID() }], // a file the server never had
      [{ ...mine, size: mine.size + 1 }], // not as stored
      [{ ...mine, type: 'image/png', width: 10, height: 10 }],
    ]) {
      const outcome = await send(forged);
      expect(outcome).toMatchObject({ refused: true });
      expect(outcome.refused && outcome.reason).toMatch(/ruleBroken\]: a message carries only files its author uploaded/);
    }
    expect((await server.storage.files.getFile(mine.id))?.messageId).toBeNull();

    const id = randomUUID() as MessageId;
    expect(await send([mine], id)).toEqual({ refused: false });
    await until('the message is numbered', async () => (await server.storage.projection.getMessage(group, id)) !== null);
    expect((await server.storage.files.getFile(mine.id))?.messageId).toBe(id);
    // A second message cannot carry it too.
    expect(await send([mine])).toMatchObject({ refused: true });

    expect(await attempt(server.url, doc, bob.session.accessToken, (d) => writeDeletion(d, id, { by: author, at: Date.now() }))).toEqual({ refused: false });
    await until('the deleted message’s file is gone', async () => (await get(server.url, ada, group, mine.id, 'original')).status === 404);
    expect(await server.storage.files.getFile(mine.id)).toBeNull();
  });

  it('keeps each user within their quota and upload pace', async () => {
    const erin = await signUp(server.url, 'erin');
    const frank = await signUp(server.url, 'frank');
    const room = await erin.createGroup('limits', [frank.user.id]);
    for (let i = 0; i < 2; i++) await uploaded(server.url, erin, room, new Uint8Array(randomBytes(1_900_000)), `scan ${i}.bin`);
    const over = await errorOf(await put(server.url, erin, room, new Uint8Array(randomBytes(1_300_000)), 'one more.bin'));
    expect(over).toMatchObject({ status: 413, kind: 'tooLarge', details: { quotaBytes: QUOTA } });

    let refusal: Awaited<ReturnType<typeof errorOf>> | undefined;
    for (let i = 0; i <= UPLOADS_PER_MINUTE && !refusal; i++) {
      const response = await put(server.url, frank, room, new TextEncoder().encode(`note ${i}\n`), `note ${i}.txt`);
      if (response.status !== 201) refusal = await errorOf(response);
    }
    expect(refusal).toMatchObject({ status: 429, kind: 'rateLimited' });
    expect(refusal?.details?.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('attached files across nodes (Postgres)', () => {
  it('serves a file uploaded through one node from another', async () => {
    const database = await freshDatabase('postgres');
    const signingKey = randomBytes(32).toString('base64');
    const first = await startNode({ ...database, signingKey });
    const second = await startNode({ ...database, dataDir: (await freshDatabase('sqlite')).dataDir, signingKey });
    const ada = await signUp(first.url, 'ada');
    const bob = await signUp(second.url, 'bob');
    const room = await ada.createGroup('two nodes', [bob.user.id]);
    const photo = await photoWithGps(640, 480);
    const entry = await uploaded(first.url, ada, room, photo, 'gate.jpg');
    const served = await bytesOf(await get(second.url, bob, room, entry.id, 'original'));
    expect(served.byteLength).toBe(entry.size);
    expect(await gpsOf(served)).toBeNull();
    expect(await bytesOf(await get(second.url, bob, room, entry.id, 'thumb'))).toEqual(await bytesOf(await get(first.url, bob, room, entry.id, 'thumb')));
  });
});
