/**
 * Image sizes: SDXL was trained on ~1 megapixel aspect buckets (Podell et al. 2023, Appendix I), so
 * the presets are those buckets; a custom size is rounded to a multiple of 8 (the VAE factor).
 */
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

export function presetOf(width: number, height: number): SizePreset | undefined {
  return SDXL_BUCKETS.find((p) => p.width === width && p.height === height);
}
