// What an uploaded file is, decided from its bytes alone (never its name or the client's
// Content-Type): file-type reads the magic numbers; what it does not know is plain text when it
// decodes as UTF-8, else opaque bytes. Only raster images the server re-encodes are ever served
// inline; SVG and HTML are text here, so they can only ever be downloaded.
import { open } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import { OutpostError } from '@outpost/shared-schema';

/** Images the server decodes and re-encodes (as their output format), then shows inline. */
const IMAGES: Record<string, ImageOutput> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/apng': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  // Kept in a format every browser shows.
  'image/avif': 'png',
  'image/tiff': 'png',
};

export type ImageOutput = 'jpeg' | 'png' | 'webp' | 'gif';

/** The MIME type of each image output: the only types served inline. */
export const InlineTypes: Record<ImageOutput, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };

export function isInlineType(type: string): boolean {
  return Object.values(InlineTypes).includes(type);
}

/** Programs are not shared through the chat. */
const REFUSED = new Set(['application/x-msdownload', 'application/x-elf', 'application/x-mach-binary', 'application/x-sharedlib', 'application/x-msi']);

/** What the refusal of a type says is allowed. */
export const ALLOWED =
  'images (JPEG, PNG, WebP, GIF, AVIF, TIFF: shown in the conversation) and any other file as a download, except programs (exe, ELF, Mach-O)';

export type Detected = { kind: 'image'; type: string; output: ImageOutput } | { kind: 'file'; type: string };

/** Decides what the file at `path` is; throws `invalidInput` for what is not accepted. */
export async function detectType(path: string): Promise<Detected> {
  const found = await fileTypeFromFile(path);
  if (found) {
    // As messages carry it: the bare type in lowercase ("audio/ogg; codecs=opus" is audio/ogg).
    const type = (found.mime.split(';')[0] ?? '').trim().toLowerCase();
    if (REFUSED.has(type)) throw new OutpostError('invalidInput', `programs cannot be shared (this file is ${type})`, { allowed: ALLOWED, type });
    const output = IMAGES[type];
    if (output) return { kind: 'image', type, output };
    return { kind: 'file', type };
  }
  return { kind: 'file', type: (await looksLikeText(path)) ? 'text/plain' : 'application/octet-stream' };
}

/** True when the first 8 KiB decode as UTF-8 and hold no NUL byte. */
async function looksLikeText(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(8192);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head.includes(0)) return false;
    try {
      // `stream: true`: a character cut at the end of the sample is not an error.
      new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
      return true;
    } catch {
      return false;
    }
  } finally {
    await file.close();
  }
}

/**
 * A file name as people see it, safe anywhere it is shown or saved: no path, no control or
 * direction-changing characters, NFC, at most `max` characters. Empty names become "file".
 */
export function cleanName(raw: string, max: number): string {
  const base = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim().replace(/^\.+/, '');
  return [...(clean || 'file')].slice(0, max).join('');
}

/** `name` with its extension replaced by `extension` (an image converted to another format). */
export function withExtension(name: string, extension: string): string {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return `${stem}.${extension}`;
}
