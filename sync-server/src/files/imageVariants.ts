// Images are decoded and re-encoded with sharp (libvips) before anyone sees them: the original
// at full size, a display size and a thumbnail, all without metadata (EXIF, GPS, XMP, comments;
// colours converted to sRGB) and turned upright. The pixel count is checked on the header before
// anything is decoded, so a small file that would decode to gigabytes (a decompression bomb) is
// refused, and libvips enforces the same limit while decoding in case a header lies.
import { join } from 'node:path';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { OutpostError } from '@outpost/shared-schema';
import type { ImageOutput } from './fileTypes.ts';
import { InlineTypes } from './fileTypes.ts';

/** Longest side of the display size. */
export const DISPLAY_SIZE = 2048;
/** Longest side of a thumbnail (inline in the conversation, kept offline on every device). */
export const THUMB_SIZE = 640;
/** Longest side of the blurred placeholder carried in the message itself. */
const PLACEHOLDER_SIZE = 16;

// One image at a time per libvips thread pool is plenty on a small node; no cache of decoded images.
sharp.cache(false);

export interface ImageVariants {
  /** The re-encoded original (same format, or PNG for formats browsers may not show). */
  original: { path: string; type: string };
  /** A smaller copy for the viewer, or null when the original is small enough. */
  display: { path: string; type: string } | null;
  thumb: { path: string; type: string };
  width: number;
  height: number;
  /** data: URL of a tiny WebP. */
  placeholder: string;
}

/**
 * Writes the variants of the image at `input` into `dir`. Throws `tooLarge` for more than
 * `maxPixels` pixels (all frames together), `invalidInput` for bytes that do not decode.
 */
export async function makeImageVariants(input: string, output: ImageOutput, dir: string, maxPixels: number): Promise<ImageVariants> {
  let header: Metadata;
  try {
    header = await sharp(input, { limitInputPixels: false }).metadata();
  } catch {
    throw unreadable();
  }
  const frames = output === 'gif' || output === 'webp' ? Math.max(1, header.pages ?? 1) : 1;
  const { width, height } = header;
  if (!width || !height) throw unreadable();
  if (width * height * frames > maxPixels) {
    throw new OutpostError('tooLarge', `an image may have at most ${Math.floor(maxPixels / 1e6)} megapixels; this one has ${Math.round((width * height * frames) / 1e6)}`, {
      maxPixels,
      pixels: width * height * frames,
    });
  }
  const animated = frames > 1;
  const open = (all = animated) =>
    sharp(input, { limitInputPixels: maxPixels, failOn: 'error', animated: all }).rotate(); // upright; metadata is not kept
  const paths = { original: join(dir, 'original'), display: join(dir, 'display'), thumb: join(dir, 'thumb') };
  try {
    const original = await encode(open(), output).toFile(paths.original);
    const long = Math.max(original.width, animated ? (original.pageHeight ?? original.height) : original.height);
    const display =
      long > DISPLAY_SIZE
        ? await encode(open().resize({ width: DISPLAY_SIZE, height: DISPLAY_SIZE, fit: 'inside', withoutEnlargement: true }), output === 'gif' ? 'gif' : 'webp').toFile(paths.display)
        : null;
    await open(false).resize({ width: THUMB_SIZE, height: THUMB_SIZE, fit: 'inside', withoutEnlargement: true }).webp({ quality: 70 }).toFile(paths.thumb);
    const tiny = await open(false).resize({ width: PLACEHOLDER_SIZE, height: PLACEHOLDER_SIZE, fit: 'inside' }).webp({ quality: 30 }).toBuffer();
    return {
      original: { path: paths.original, type: InlineTypes[output] },
      // A GIF stays a GIF (it may move); anything else is shown as WebP.
      display: display ? { path: paths.display, type: output === 'gif' ? InlineTypes.gif : InlineTypes.webp } : null,
      thumb: { path: paths.thumb, type: InlineTypes.webp },
      width: original.width,
      height: animated ? (original.pageHeight ?? original.height) : original.height,
      placeholder: `data:image/webp;base64,${tiny.toString('base64')}`,
    };
  } catch (error) {
    if (error instanceof OutpostError) throw error;
    if (/pixel limit/i.test((error as Error).message)) throw new OutpostError('tooLarge', `an image may have at most ${Math.floor(maxPixels / 1e6)} megapixels`, { maxPixels });
    throw unreadable();
  }
}

function encode(image: Sharp, output: ImageOutput): Sharp {
  switch (output) {
    case 'jpeg':
      return image.jpeg({ quality: 92 });
    case 'png':
      return image.png();
    case 'webp':
      return image.webp({ quality: 90 });
    case 'gif':
      return image.gif();
  }
}

function unreadable(): OutpostError {
  return new OutpostError('invalidInput', 'this image cannot be read (it is damaged, or not what its first bytes say)');
}
