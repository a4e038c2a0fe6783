/**
 * The Generate page's edit (issue 14) as the engine takes it: pure functions from the edit panel's
 * state to GenerateParams' initImage, strength, mask, maskBlur, keepOutside and outpaint
 * (engine/edit-input.ts reads them), and the run size an init image suggests.
 *
 * Sizes are multiples of the model's latent factor (2^(levels − 1) of its VAE's block_out_channels,
 * diffusers' vae_scale_factor, pipeline_stable_diffusion_xl.py l. 188), never a hard-coded 8.
 */
import type { GenerateParams, RgbaImage } from '../../engine/protocol';
import { resampleToFloat } from '../scenes/editor/raster';
import { MAX_SIDE } from './sizes';

export type EditMode = 'img2img' | 'inpaint' | 'outpaint';
export type Sides = [number, number, number, number];

export interface EditSettings {
  init: RgbaImage | null;
  mode: EditMode;
  strength: number;
  /** The painted mask, 0..255 at maskWidth × maskHeight (the init image's aspect, at most EDIT_MAX_SIDE). */
  mask: Uint8Array | null;
  maskWidth: number;
  maskHeight: number;
  maskBlur: number;
  keepOutside: boolean;
  /** Pixels added on the left, top, right and bottom (multiples of the latent factor). */
  outpaint: Sides;
}

/** SDXL's native side (sample_size 128 × 8): an init image larger than this is run at this long side. */
export const INIT_LONG_SIDE = 1024;

/** The latent factor of a VAE config's block_out_channels (diffusers' vae_scale_factor). */
export function latentFactorOf(blockOutChannels: readonly unknown[]): number {
  return 2 ** Math.max(0, blockOutChannels.length - 1);
}

/** v rounded to a multiple of `factor`, at least 2·factor and at most MAX_SIDE. */
export function snapTo(v: number, factor: number): number {
  const max = Math.floor(MAX_SIDE / factor) * factor;
  return Math.min(max, Math.max(2 * factor, Math.round(v / factor) * factor));
}

/**
 * The run size for an init image: its own size when it fits (so nothing is resampled and the
 * paste-back is exact), scaled down to INIT_LONG_SIDE when larger, each side snapped to the factor.
 */
export function initRunSize(width: number, height: number, factor: number): { width: number; height: number } {
  const k = Math.min(1, INIT_LONG_SIDE / Math.max(width, height));
  return { width: snapTo(width * k, factor), height: snapTo(height * k, factor) };
}

/** What the engine does to the init image to fit width × height: 'none', or crop and/or resize. */
export function fitDescription(init: { width: number; height: number }, width: number, height: number): string {
  if (init.width === width && init.height === height) return `used as it is (${width}×${height})`;
  const sameAspect = Math.abs(init.width / init.height - width / height) < 1e-3;
  return `${sameAspect ? 'resized' : 'cropped to the aspect and resized'} from ${init.width}×${init.height} to ${width}×${height}`;
}

/** A strength typed or dragged: a number from 0 to 1, or a message that says what is wrong. */
export function parseStrength(text: string): { value: number } | { error: string } {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) return { error: 'The strength is a number from 0 to 1.' };
  if (v < 0 || v > 1) return { error: `The strength must be from 0 to 1, not ${v}.` };
  return { value: v };
}

/** Outpaint sides as whole multiples of the factor (≥ 0): each side rounded down, negative to 0. */
export function snapSides(sides: readonly number[], factor: number): Sides {
  const s = (v: number | undefined) => Math.max(0, Math.floor((Number.isFinite(v) ? v! : 0) / factor) * factor);
  return [s(sides[0]), s(sides[1]), s(sides[2]), s(sides[3])];
}

/** The painted mask as the engine's 0..1 floats at the init image's size (no "resampled" notice then). */
export function maskAtInit(e: Pick<EditSettings, 'mask' | 'maskWidth' | 'maskHeight'>, init: { width: number; height: number }): Float32Array<ArrayBuffer> | null {
  if (!e.mask || !e.mask.some((v) => v > 0)) return null;
  return resampleToFloat(e.mask, e.maskWidth, e.maskHeight, init.width, init.height) as Float32Array<ArrayBuffer>;
}

/**
 * GenerateParams' edit fields for a run of width × height (the image's size, before outpainting):
 * {} without an init image (text to image). Outpainting makes the canvas larger by the sides.
 */
export function editParams(e: EditSettings, width: number, height: number): Partial<GenerateParams> {
  if (!e.init) return {};
  const base: Partial<GenerateParams> = { initImage: e.init, strength: e.strength, width, height };
  if (e.mode === 'inpaint') {
    const mask = maskAtInit(e, e.init);
    // an empty mask is plain image to image (the engine would say so; nothing to send)
    if (!mask) return base;
    return { ...base, mask: { width: e.init.width, height: e.init.height, data: mask }, maskBlur: e.maskBlur, keepOutside: e.keepOutside };
  }
  if (e.mode === 'outpaint') {
    const [l, t, r, b] = e.outpaint;
    if (l + t + r + b === 0) return base;
    return { ...base, width: width + l + r, height: height + t + b, outpaint: [l, t, r, b], maskBlur: e.maskBlur, keepOutside: e.keepOutside };
  }
  return base;
}

/** The alpha of an RGBA image as a mask (A1111: transparent pixels are the ones to repaint): 255 − alpha. */
export function maskFromAlpha(img: RgbaImage): Uint8Array | null {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    const m = 255 - img.rgba[i * 4 + 3]!;
    out[i] = m;
    if (m) any = true;
  }
  return any ? out : null;
}
