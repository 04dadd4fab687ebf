// The REST routes of attached files, under /api/conversations/:id/files/:fileId. Access goes
// with the access token in the Authorization header, like every other call (no signed URLs: no
// secret in addresses, logs or history, and membership is asked on every request, so a removed
// member reads nothing more). Every answer says what it is and how it may be shown: nosniff, a
// CSP that lets nothing run, and `Content-Disposition: attachment` for all but re-encoded images.
import type { Context, Hono } from 'hono';
import { OutpostError, isUuid, type ConversationId, type UserId } from '@outpost/shared-schema';
import { FileVariants, type FileVariant } from '@outpost/storage';
import type { FileService } from '../files/FileService.ts';
import type { Env } from './env.ts';

/** Nothing a file contains may run, load or be framed, even if a browser opened it as a page. */
const FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

function ids(c: Context<Env>): { conversationId: ConversationId; fileId: string } {
  const conversationId = c.req.param('id');
  const fileId = c.req.param('fileId');
  if (!isUuid(conversationId)) throw new OutpostError('invalidInput', 'the conversation id must be a UUID');
  if (!isUuid(fileId)) throw new OutpostError('invalidInput', 'a file id is a random UUID made by the uploading device');
  return { conversationId: conversationId as ConversationId, fileId };
}

/** `filename` for ASCII-only agents and `filename*` (RFC 8187) with the real name. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

export function mountFileRoutes(authed: Hono<Env>, files: FileService): void {
  authed.get('/files/limits', async (c) => c.json(await files.limits(c.get('auth').userId as UserId)));

  authed.put('/conversations/:id/files/:fileId', async (c) => {
    const { conversationId, fileId } = ids(c);
    const name = c.req.query('name') ?? '';
    if (name.trim() === '') throw new OutpostError('invalidInput', 'say the file’s name: ?name=…', { field: 'name' });
    const declared = c.req.header('content-length');
    const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : null;
    const body = c.req.raw.body;
    if (!body) throw new OutpostError('invalidInput', 'the request carries no file');
    try {
      const result = await files.upload({ userId: c.get('auth').userId as UserId, conversationId, fileId, name, length, body: chunksOf(body) });
      return c.json(result.entry, result.created ? 201 : 200);
    } catch (error) {
      // Refused before the whole body was read: the rest of it is not worth receiving, and the
      // connection cannot carry another request after it.
      c.header('Connection', 'close');
      throw error;
    }
  });

  authed.get('/conversations/:id/files/:fileId', async (c) => {
    const { conversationId, fileId } = ids(c);
    return c.json(await files.describe(c.get('auth').userId as UserId, conversationId, fileId));
  });

  authed.get('/conversations/:id/files/:fileId/:variant', async (c) => {
    const { conversationId, fileId } = ids(c);
    const variant = c.req.param('variant');
    if (!(FileVariants as readonly string[]).includes(variant)) throw new OutpostError('invalidInput', `a file is read as ${FileVariants.join(', ')}`);
    const bytes = await files.open(c.get('auth').userId as UserId, conversationId, fileId, variant as FileVariant);
    const inline = bytes.inline && c.req.query('download') === undefined;
    const headers = new Headers({
      'Content-Type': bytes.type.startsWith('text/') ? `${bytes.type}; charset=utf-8` : bytes.type,
      'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', bytes.entry.name),
      'Content-Security-Policy': FILE_POLICY,
      'X-Content-Type-Options': 'nosniff',
      // The bytes under a key never change; who may read them does, so ask every time.
      'Cache-Control': 'private, no-cache',
      ETag: `"${bytes.key}"`,
    });
    if (c.req.header('if-none-match') === `"${bytes.key}"`) {
      await bytes.blob.chunks[Symbol.asyncIterator]().return?.();
      return new Response(null, { status: 304, headers });
    }
    headers.set('Content-Length', String(bytes.blob.size));
    return new Response(streamOf(bytes.blob.chunks), { status: 200, headers });
  });
}

/** A request body, read as it arrives (TCP pushes back while the reader is busy). */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** A response body pulled from `chunks` only as fast as the client reads it. */
function streamOf(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
