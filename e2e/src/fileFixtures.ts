// Files the attachment tests upload, made here byte by byte so each is exactly what its test
// says: a phone photo with GPS in its EXIF, a decompression bomb, an HTML page named .png, an
// SVG that runs a script, a PDF, a program.
import { deflateSync, crc32 } from 'node:zlib';
import exifReader from 'exif-reader';
import sharp from 'sharp';

/** Where the photo was taken: what must never leave the server. */
export const PHOTO_PLACE = { latitude: [51, 28, 4048] as const, longitude: [0, 0, 1234] as const };

/**
 * A JPEG of `width` × `height` as a phone writes it: EXIF with the GPS position and orientation 6
 * (the sensor was turned: the picture is shown `height` wide and `width` high).
 */
export async function photoWithGps(width = 1200, height = 800): Promise<Uint8Array> {
  const pixels = await sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .composite([{ input: { create: { width: Math.floor(width / 2), height: Math.floor(height / 2), channels: 3, background: { r: 250, g: 200, b: 30 } } }, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();
  const app1 = exifSegment();
  // After SOI (FF D8) comes our APP1, then the rest as sharp wrote it.
  return new Uint8Array(Buffer.concat([pixels.subarray(0, 2), app1, pixels.subarray(2)]));
}

/** An APP1 segment: "Exif\0\0" and a little-endian TIFF with IFD0 (orientation, GPS pointer) and a GPS IFD. */
function exifSegment(): Buffer {
  const u16 = (value: number) => Buffer.from([value & 0xff, value >> 8]);
  const u32 = (value: number) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(value);
    return bytes;
  };
  /** One 12-byte IFD entry; `value` is the 4-byte value or offset field. */
  const entry = (tag: number, type: number, count: number, value: Buffer) => Buffer.concat([u16(tag), u16(type), u32(count), value]);
  const ifd = (entries: Buffer[]) => Buffer.concat([u16(entries.length), ...entries, u32(0)]);
  const SHORT = 3;
  const LONG = 4;
  const ASCII = 2;
  const RATIONAL = 5;
  const header = Buffer.concat([Buffer.from('II', 'latin1'), u16(42), u32(8)]);
  const gpsAt = 8 + 2 + 2 * 12 + 4;
  const ifd0 = ifd([entry(0x0112, SHORT, 1, Buffer.concat([u16(6), u16(0)])), entry(0x8825, LONG, 1, u32(gpsAt))]);
  const rationalsAt = gpsAt + 2 + 4 * 12 + 4;
  const gps = ifd([
    entry(0x0001, ASCII, 2, Buffer.from('N\0\0\0', 'latin1')),
    entry(0x0002, RATIONAL, 3, u32(rationalsAt)),
    entry(0x0003, ASCII, 2, Buffer.from('E\0\0\0', 'latin1')),
    entry(0x0004, RATIONAL, 3, u32(rationalsAt + 24)),
  ]);
  const [d, m, s] = PHOTO_PLACE.latitude;
  const [ld, lm, ls] = PHOTO_PLACE.longitude;
  const rationals = Buffer.concat(([[d, 1], [m, 1], [s, 100], [ld, 1], [lm, 1], [ls, 100]] as const).flatMap(([n, q]) => [u32(n), u32(q)]));
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), header, ifd0, gps, rationals]);
  const marker = Buffer.alloc(4);
  marker.writeUInt16BE(0xffe1, 0);
  marker.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([marker, body]);
}

/** The GPS tags of a JPEG's or WebP's EXIF as sharp finds it, or null when it carries no EXIF. */
export async function gpsOf(bytes: Uint8Array): Promise<Record<string, unknown> | null> {
  const { exif } = await sharp(bytes).metadata();
  if (!exif) return null;
  return (exifReader(exif).GPSInfo as Record<string, unknown> | undefined) ?? {};
}

/** A valid grayscale PNG of `width` × `height` black pixels: a few KB that decode to width × height bytes. */
export function pngBomb(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(0, 9); // grayscale
  const rows = deflateSync(Buffer.alloc(height * (width + 1)), { level: 9 }); // filter byte 0 + zeros per row
  return new Uint8Array(
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]),
  );
}

/** A small PNG with a gradient (lossless, so its pixels can be compared exactly after re-encoding). */
export async function gradientPng(width = 300, height = 200): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set([x % 256, y % 256, (x + y) % 256], (y * width + x) * 3);
  return new Uint8Array(await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** An animated GIF of three 40 × 30 frames. */
export async function animatedGif(): Promise<Uint8Array> {
  const frames = await Promise.all(['red', 'green', 'blue'].map((background) => sharp({ create: { width: 40, height: 30, channels: 3, background } }).png().toBuffer()));
  return new Uint8Array(await sharp(frames, { join: { animated: true } }).gif({ delay: [200, 200, 200] }).toBuffer());
}

export const htmlPage = new TextEncoder().encode('<!doctype html><html><body><script>alert(document.cookie)</script>Click me</body></html>\n');

export const svgWithScript = new TextEncoder().encode(
  '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(1)</script><circle cx="50" cy="50" r="40" fill="red"/></svg>\n',
);

/** A one-page PDF (the bytes are served back unchanged). */
export const pdf = new TextEncoder().encode(
  '%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n' +
    '3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n',
);

/** The start of an ELF program (enough for its magic number). */
export const program = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(56).fill(0)]);
