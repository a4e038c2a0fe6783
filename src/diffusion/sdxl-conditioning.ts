/**
 * SDXL's conditioning around the UNet call (diffusers 0.25.1 StableDiffusionXLPipeline.__call__):
 * the micro-conditioning time ids (Podell et al. 2023, §2.2: original size, crop top-left, target
 * size), classifier-free guidance (Ho & Salimans 2022: uncond + s·(cond − uncond), batch order
 * [uncond, cond]) and the image-size rules.
 */
import { rescaleNoiseCfg } from './guidance-rescale';

export interface MicroConditioning {
  /** (height, width) the training image is claimed to have had; default the target size. */
  originalSize?: readonly [number, number];
  /** (top, left) of the crop; default (0, 0). */
  cropsTopLeft?: readonly [number, number];
  /** (height, width) asked for; default the output size. */
  targetSize?: readonly [number, number];
}

/** The six add_time_ids of one sample: original_size + crops_coords_top_left + target_size. */
export function sdxlTimeIds(height: number, width: number, m: MicroConditioning = {}): number[] {
  const target = m.targetSize ?? [height, width];
  const original = m.originalSize ?? [height, width];
  const crops = m.cropsTopLeft ?? [0, 0];
  return [original[0], original[1], crops[0], crops[1], target[0], target[1]];
}

/** A named error for an image size the UNet/VAE cannot take. */
export class ImageSizeError extends RangeError {
  override readonly name = 'ImageSizeError';
  readonly code = 'bad-image-size';
}

/** The VAE downsamples by 8: pixel sizes must be positive multiples of 8 (as diffusers checks). */
export function latentSize(height: number, width: number, factor = 8): { h: number; w: number } {
  for (const [what, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < factor || v % factor !== 0) {
      throw new ImageSizeError(`The image ${what} must be a multiple of ${factor} pixels (got ${v}); try ${Math.max(factor, Math.round(v / factor) * factor)}.`);
    }
  }
  return { h: height / factor, w: width / factor };
}

/**
 * guided = uncond + s·(cond − uncond) over a [2, …] noise prediction laid out [uncond | cond], then
 * guidance rescale φ (guidance-rescale.ts) when `rescale` > 0, as diffusers does right after CFG.
 */
export function classifierFreeGuidance(pred: Float32Array, scale: number, rescale = 0): Float32Array {
  const n = pred.length / 2;
  if (!Number.isInteger(n)) throw new RangeError('CFG needs a batch of two halves');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = pred[i]!;
    out[i] = u + scale * (pred[n + i]! - u);
  }
  return rescale > 0 ? rescaleNoiseCfg(out, pred.subarray(n), rescale) : out;
}

/** diffusers: do_classifier_free_guidance = guidance_scale > 1 (at ≤ 1 the uncond pass is skipped). */
export function usesGuidance(scale: number): boolean {
  return scale > 1;
}
