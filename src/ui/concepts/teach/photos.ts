/**
 * Training photos in the page: decoding (EXIF orientation honoured: createImageBitmap with
 * imageOrientation 'from-image'), refusal by file name of anything the browser cannot decode, and the
 * crops (and masks) at the training size that a job stores. Photos stay in this tab and IndexedDB:
 * nothing here touches the network.
 */
import { encodePng } from '../../../storage/png/png';
import type { JobPhoto } from '../../../storage/concepts/job-record';
import { cropInMask, cropMask, defaultCrop, maskScale, type Crop } from './crop';
import { isPhotoFile } from './validation';

/** Masks are painted at the photo's size fitted into this side (enough for a subject's outline). */
export const MASK_MAX_SIDE = 1024;

export interface TeachPhoto {
  id: string;
  name: string;
  bitmap: ImageBitmap;
  width: number;
  height: number;
  crop: Crop;
  /** The painted subject mask (Uint8, maskW × maskH over the whole photo), or null: none painted. */
  mask: Uint8Array | null;
  maskW: number;
  maskH: number;
}

export interface RefusedFile {
  name: string;
  why: string;
}

let seq = 0;

/** Decodes the files; each one that is not a PNG/JPEG/WebP or does not decode is refused by name. */
export async function decodePhotos(files: readonly File[]): Promise<{ photos: TeachPhoto[]; refused: RefusedFile[] }> {
  const photos: TeachPhoto[] = [];
  const refused: RefusedFile[] = [];
  for (const f of files) {
    if (!isPhotoFile(f)) {
      refused.push({ name: f.name, why: `not a PNG, JPEG or WebP photo${f.type ? ` (${f.type})` : ''}` });
      continue;
    }
    try {
      const bitmap = await createImageBitmap(f, { imageOrientation: 'from-image' });
      const k = maskScale(bitmap.width, bitmap.height, MASK_MAX_SIDE);
      photos.push({
        id: `p${Date.now().toString(36)}-${++seq}`, name: f.name, bitmap, width: bitmap.width, height: bitmap.height,
        crop: defaultCrop(bitmap.width, bitmap.height), mask: null, maskW: Math.max(1, Math.round(bitmap.width * k)), maskH: Math.max(1, Math.round(bitmap.height * k)),
      });
    } catch {
      refused.push({ name: f.name, why: 'this browser cannot decode it (damaged, or not really an image)' });
    }
  }
  return { photos, refused };
}

/** The crop at size × size, RGBA, over white (transparent parts of a PNG train as white, not black). */
export function renderCrop(p: Pick<TeachPhoto, 'bitmap' | 'crop'>, size: number): Uint8ClampedArray<ArrayBuffer> {
  const canvas = new OffscreenCanvas(size, size);
  const g = canvas.getContext('2d', { willReadFrequently: true });
  if (!g) throw new Error('This browser gave no 2D canvas to crop the photos.');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, size, size);
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'high';
  const c = p.crop;
  g.drawImage(p.bitmap, c.x, c.y, c.size, c.size, 0, 0, size, size);
  return new Uint8ClampedArray(g.getImageData(0, 0, size, size).data);
}

/** The photo's mask over its crop at size × size (0..1), or null when none is painted. */
export function cropMaskOf(p: Pick<TeachPhoto, 'mask' | 'maskW' | 'maskH' | 'crop' | 'width'>, size: number): Float32Array | null {
  if (!p.mask) return null;
  return cropMask(p.mask, p.maskW, p.maskH, cropInMask(p.crop, p.maskW / p.width), size);
}

/** A 0..1 mask as a grey RGBA PNG (r = g = b = value, opaque): what the library's trainingPhotos keep. */
export async function maskPng(mask: Float32Array, size: number): Promise<Uint8Array> {
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < mask.length; i++) {
    const v = Math.round(mask[i]! * 255);
    rgba[i * 4] = v;
    rgba[i * 4 + 1] = v;
    rgba[i * 4 + 2] = v;
    rgba[i * 4 + 3] = 255;
  }
  return encodePng(rgba, size, size);
}

const own = (u: Uint8Array): ArrayBuffer => u.slice().buffer as ArrayBuffer;

/** The photos as a job stores them: crop PNGs at the training size and mask PNGs. */
export async function jobPhotosOf(photos: readonly TeachPhoto[], size: number): Promise<JobPhoto[]> {
  const out: JobPhoto[] = [];
  for (const p of photos) {
    const png = await encodePng(renderCrop(p, size), size, size);
    const m = cropMaskOf(p, size);
    out.push({ name: p.name, png: own(png), mask: m ? own(await maskPng(m, size)) : null });
  }
  return out;
}

/** Number of photos whose painted mask covers nothing over its crop. */
export function emptyMaskCount(photos: readonly TeachPhoto[]): number {
  return photos.filter((p) => {
    if (!p.mask) return false;
    const m = cropMaskOf(p, 64);
    return !m || !m.some((v) => v > 0);
  }).length;
}
