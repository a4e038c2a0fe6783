/**
 * The forgetting job's probes (protocol.ts ForgettingProbe): each concept's own training photos, as
 * it was trained on them (square crops at hyper.resolution, spec §1.6), with its painted masks when
 * it was trained with the masked loss. Concepts without stored photos (imported from a file, which
 * carries no photos) cannot be scored and are returned apart. Decoding is injected so the assembly is
 * tested without a browser; `decodeImageAt` is the browser's decoder.
 */
import type { ForgettingProbe, RgbaImage, TrainPhoto } from '../../../engine/protocol';
import type { ConceptSummary } from '../../../storage/concepts/record';

export type ProbeConcept = Pick<ConceptSummary, 'id' | 'name' | 'hyper' | 'trainingPhotos' | 'captionTemplate'>;

/** Decodes an image file to RGBA at size×size. */
export type DecodeImage = (blob: Blob, size: number) => Promise<RgbaImage>;

export class ProbeImageError extends Error {
  override readonly name = 'ProbeImageError';
  readonly code = 'probe-image';
  constructor(concept: string, index: number, cause: unknown) {
    super(`Training photo ${index + 1} of "${concept}" cannot be decoded (${cause instanceof Error ? cause.message : String(cause)}); its forgetting score cannot be computed. Delete and re-teach the concept, or leave it unscored.`);
  }
}

/** A grey mask image → one value per pixel in 0..1 (its red channel; the mask editor paints grey). */
export function maskFromGrey(img: RgbaImage): Float32Array<ArrayBuffer> {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = img.rgba[4 * p]! / 255;
  return out;
}

/** The side photos are scored at: the concept's training resolution (spec §1.6), 512 when it does not say. */
export function probeSize(c: Pick<ProbeConcept, 'hyper'>): number {
  const r = c.hyper.resolution;
  return Number.isInteger(r) && r >= 8 ? r : 512;
}

export interface BuiltProbes {
  probes: ForgettingProbe[];
  /** Concepts with no training photos to score (ids, library order). */
  unscored: string[];
}

/** One probe per concept that has training photos, in the given (task) order. */
export async function buildProbes(concepts: readonly ProbeConcept[], decode: DecodeImage, signal?: AbortSignal): Promise<BuiltProbes> {
  const probes: ForgettingProbe[] = [];
  const unscored: string[] = [];
  for (const c of concepts) {
    const photos = c.trainingPhotos ?? [];
    if (photos.length === 0) {
      unscored.push(c.id);
      continue;
    }
    const size = probeSize(c);
    const out: TrainPhoto[] = [];
    for (const [k, p] of photos.entries()) {
      signal?.throwIfAborted();
      let rgba: RgbaImage;
      let mask: Float32Array<ArrayBuffer> | undefined;
      try {
        rgba = await decode(p.image, size);
        // only a concept trained with the masked loss is scored with it: the proxy measures what it learned
        if (c.hyper.masked && p.mask) mask = maskFromGrey(await decode(p.mask, size));
      } catch (err) {
        if (signal?.aborted) throw err;
        throw new ProbeImageError(c.name, k, err);
      }
      out.push(mask ? { rgba, mask } : { rgba });
    }
    probes.push({ conceptId: c.id, photos: out, ...(c.captionTemplate !== undefined ? { captionTemplate: c.captionTemplate } : {}) });
  }
  return { probes, unscored };
}

/** The browser's decoder: the image drawn at size×size (the stored crops already are; a resize keeps old records usable). */
export async function decodeImageAt(blob: Blob, size: number): Promise<RgbaImage> {
  const bitmap = await createImageBitmap(blob);
  try {
    const canvas = new OffscreenCanvas(size, size);
    const g = canvas.getContext('2d');
    if (!g) throw new Error('no 2D canvas');
    g.drawImage(bitmap, 0, 0, size, size);
    const data = g.getImageData(0, 0, size, size).data;
    return { width: size, height: size, rgba: new Uint8ClampedArray(data) };
  } finally {
    bitmap.close();
  }
}

/** The photos' bytes the probes hold (for a warning before sending many 1024² photos to the engine). */
export function probeBytes(p: readonly ForgettingProbe[]): number {
  return p.reduce((a, x) => a + x.photos.reduce((b, ph) => b + ph.rgba.rgba.byteLength + (ph.mask?.byteLength ?? 0), 0), 0);
}
