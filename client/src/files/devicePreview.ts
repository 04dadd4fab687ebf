// A thumbnail made on the device, so a photo attached offline shows at once, at its real aspect
// ratio, before the server has it. Where the platform cannot draw (Node), there is none.

/** Longest side of a device-made preview (as the server's thumbnails). */
const PREVIEW_SIZE = 640;

export interface DevicePreview {
  blob: Blob;
  /** The image's own size, turned upright as its EXIF says. */
  width: number;
  height: number;
}

/** A WebP preview of an image, or undefined when `file` is not one this platform can decode. */
export async function devicePreview(file: Blob): Promise<DevicePreview | undefined> {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas === 'undefined' || !file.type.startsWith('image/')) return undefined;
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const scale = Math.min(1, PREVIEW_SIZE / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await canvas.convertToBlob({ type: 'image/webp', quality: 0.7 });
    const preview = { blob, width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return preview;
  } catch {
    return undefined;
  }
}
