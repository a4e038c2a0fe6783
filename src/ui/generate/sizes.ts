/**
 * Image sizes: SDXL was trained on ~1 megapixel aspect buckets (Podell et al. 2023, Appendix I). Those
 * buckets give the aspect ratios; a model's presets are them scaled to its own native side (its UNet's
 * sample_size × its VAE's downscale, models/model-sizes.ts), so SDXL gets exactly the paper's buckets,
 * SD-1.5 the same ratios around 512², a small test model around its own side. A custom size is rounded
 * to a multiple of 8 (the VAE factor).
 */
import type { ModelSizes } from '../concepts/teach/validation';

export interface SizePreset {
  label: string;
  width: number;
  height: number;
}

export const SDXL_BUCKETS: readonly SizePreset[] = [
  { label: '1:1', width: 1024, height: 1024 },
  { label: '9:7', width: 1152, height: 896 },
  { label: '7:9', width: 896, height: 1152 },
  { label: '3:2', width: 1216, height: 832 },
  { label: '2:3', width: 832, height: 1216 },
  { label: '16:9', width: 1344, height: 768 },
  { label: '9:16', width: 768, height: 1344 },
  { label: '21:9', width: 1536, height: 640 },
  { label: '9:21', width: 640, height: 1536 },
];

/** Small sizes are allowed (tiny test models, previews); SDXL itself needs ≥ 512 for good images. */
export const MIN_SIDE = 16;
export const MAX_SIDE = 2048;

/** Nearest multiple of 8 within [MIN_SIDE, MAX_SIDE]. */
export function snapSide(v: number): number {
  if (!Number.isFinite(v)) return 1024;
  return Math.min(MAX_SIDE, Math.max(MIN_SIDE, Math.round(v / 8) * 8));
}

/** The side the buckets above were made for (SDXL's native 128 latent × 8). */
const BUCKET_NATIVE = 1024;
/** The buckets' own rounding (multiples of 64 at 1024), scaled with the side. */
const BUCKET_STEP = 64;

/**
 * The aspect buckets at a model's native side: each side scaled by native / 1024 and rounded to the
 * buckets' step scaled alike (never below the model's latent factor, so every preset is a size the
 * model can run). SDXL (native 1024) gets SDXL_BUCKETS unchanged.
 */
export function presetsFor(sizes: ModelSizes, latentFactor = 8): SizePreset[] {
  const k = sizes.native / BUCKET_NATIVE;
  const step = Math.max(latentFactor, Math.round(BUCKET_STEP * k));
  const side = (v: number) => Math.max(step, Math.round((v * k) / step) * step);
  return SDXL_BUCKETS.map((b) => ({ label: b.label, width: side(b.width), height: side(b.height) }));
}

/** Quick low-resolution drafts for layout tries: half and a quarter of the native square, on the model's grid. */
export function draftSizesFor(sizes: ModelSizes): SizePreset[] {
  return [2, 4]
    .map((d) => Math.floor(sizes.native / d / sizes.grid) * sizes.grid)
    .filter((s) => s >= sizes.grid && s >= MIN_SIDE)
    .map((s) => ({ label: 'draft', width: s, height: s }));
}

export function presetOf(width: number, height: number, presets: readonly SizePreset[] = SDXL_BUCKETS): SizePreset | undefined {
  return presets.find((p) => p.width === width && p.height === height);
}

/**
 * Whether a size is far from what the model was trained at (under half or over twice its native
 * area): SD-1.5 at 1024² repeats subjects, SDXL at 512² loses detail. The form offers the native size.
 */
export function farFromNative(width: number, height: number, sizes: ModelSizes): boolean {
  const ratio = (width * height) / (sizes.native * sizes.native);
  return ratio < 0.5 || ratio > 2;
}
