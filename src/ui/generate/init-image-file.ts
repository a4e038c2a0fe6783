/**
 * An init image from a file (dropped, picked, or a gallery PNG) as RGBA8. PNGs the project's own
 * decoder reads (8-bit RGB/RGBA) are decoded by it, byte for byte, so "keep the outside" can give
 * back the very bytes of the file; other images (JPEG, WebP, other PNGs) go through the browser's
 * decoder with no colour conversion or premultiplication. The size is checked from the PNG header
 * before any pixel is inflated (an 80 000 × 80 000 decompression bomb is refused at once).
 */
import { EditInputError, MAX_INIT_PIXELS } from '../../engine/edit-input';
import type { RgbaImage } from '../../engine/protocol';
import { decodePng } from '../../storage/png/png';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IMAGE_TYPE = /^image\/(png|jpeg|webp|gif|bmp|avif)$/;
const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp|avif)$/i;

function checkSize(name: string, width: number, height: number): void {
  if (width * height > MAX_INIT_PIXELS) {
    throw new EditInputError('init-too-large', `${name} is ${width}×${height} pixels; the studio takes up to ${MAX_INIT_PIXELS / 2 ** 20} Mpx. Scale it down first.`);
  }
}

/** The PNG header's size (IHDR is the first chunk, PNG spec §11.2.2), or null for another format. */
export function pngHeaderSize(bytes: Uint8Array): { width: number; height: number; depth: number; colour: number } | null {
  if (bytes.length < 29 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: dv.getUint32(16), height: dv.getUint32(20), depth: bytes[24]!, colour: bytes[25]! };
}

async function browserDecode(file: Blob, name: string): Promise<RgbaImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch {
    throw new EditInputError('bad-init-image', `${name}: this browser cannot decode it (damaged, or not really an image).`);
  }
  checkSize(name, bitmap.width, bitmap.height);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb' });
  if (!ctx) throw new EditInputError('bad-init-image', 'This browser gave no 2D canvas to read the image.');
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  bitmap.close();
  return { width: canvas.width, height: canvas.height, rgba: new Uint8ClampedArray(data) };
}

/** The file's pixels, or an EditInputError that names the file and says why. */
export async function decodeInitImage(file: Blob, name = (file as File).name ?? 'the image'): Promise<RgbaImage> {
  if (file.type ? !IMAGE_TYPE.test(file.type) : !IMAGE_EXT.test(name)) {
    throw new EditInputError('bad-init-image', `${name} is not an image the studio reads (PNG, JPEG, WebP${file.type ? `; this is ${file.type}` : ''}).`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const head = pngHeaderSize(bytes);
  if (head) {
    checkSize(name, head.width, head.height);
    if (head.depth === 8 && (head.colour === 2 || head.colour === 6)) {
      try {
        const png = await decodePng(bytes);
        return { width: png.width, height: png.height, rgba: new Uint8ClampedArray(png.rgba) };
      } catch {
        /* interlaced or damaged: let the browser try, it names the failure */
      }
    }
  }
  return browserDecode(file, name);
}
