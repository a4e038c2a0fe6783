/**
 * Region masks for context-controllable synthesis (CIDM §4.3, spec §4.1-4.3): a painted soft mask per
 * region at image resolution (H×W, Float32 0..1 or Uint8 alpha 0..255) → the latent resolution (for the
 * noise aggregation, Eq. 5) and every resolution the UNet's transformer blocks run at (for regional
 * cross-attention, §4.2).
 *
 * Resampling is an area average (box filter) with fractional coverage at cell edges. The spec's
 * executable reference (Mix-of-Show) used hard boxes and kept only fully covered cells
 * (ceil(top·h)..floor(bottom·h)); ours are painted soft masks, so a cell gets the mean of the mask
 * over its footprint: a brush edge through a cell gives a fractional weight instead of an on/off jump.
 *
 * Footprints follow the UNet's geometry, not a uniform rescale: level l runs at stride S = 2^l over the
 * latent (each stride-2 conv gives ceil(n/2), so odd sizes happen), and cell i covers latent rows
 * [i·S, min(h, (i+1)·S)) — the latent cells the nearest-neighbour upsampling of the up path maps back
 * onto it. When a level's last cell overhangs an odd-sized map, only its in-image part is averaged.
 * Each latent cell is 8×8 image pixels. The mask may be at any resolution covering the image (it need
 * not be H×W): its pixels are mapped onto the image extent, hence the fractional edge coverage.
 *
 * Combination rule for soft masks (the kernel and the noise aggregation use the same weights): with
 * w_u the masks at a cell and total = Σ_u w_u,
 *   out = (1 − min(1, total))·global + Σ_u w_u·region_u / max(1, total)
 * — for binary masks the spec's rule (replace inside any region, average overlaps); where regions
 * overlap with total > 1 they are averaged; where a soft edge has total < 1 the global output fills in.
 */
import type { UNetArch } from '../../model/unet/arch';
import { regionalMaskKey } from '../../model/unet/forward';

export type MaskData = Float32Array | Uint8Array | Uint8ClampedArray;

export interface MaskImage {
  data: MaskData;
  height: number;
  width: number;
}

export interface GridSize {
  h: number;
  w: number;
  /** Stride over the latent: 2^level. */
  stride: number;
}

/** Latent pixels per image pixel side (the VAE's downsampling). */
export const LATENT_FACTOR = 8;

/** A Float32 mask in [0, 1]: Uint8 alpha is divided by 255, floats are clamped. */
export function normalizeMask(m: MaskImage): Float32Array {
  if (m.data.length !== m.height * m.width) throw new RangeError(`mask has ${m.data.length} values, expected ${m.height}×${m.width}`);
  const out = new Float32Array(m.data.length);
  const scale = m.data instanceof Float32Array ? 1 : 1 / 255;
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, m.data[i]! * scale || 0));
  return out;
}

export function isEmptyMask(m: MaskData): boolean {
  for (let i = 0; i < m.length; i++) if (m[i]! > 0) return false;
  return true;
}

/**
 * 1-D area weights: for each target cell, the source pixels its interval [lo, hi) (in source pixel
 * units) overlaps and by how much, normalised to sum to 1.
 */
function axisWeights(cells: number, src: number, interval: (i: number) => [number, number]): { start: number; w: Float64Array }[] {
  return Array.from({ length: cells }, (_, i) => {
    const [lo, hi] = interval(i);
    const start = Math.floor(lo);
    const end = Math.min(src, Math.ceil(hi));
    const w = new Float64Array(Math.max(0, end - start));
    for (let y = start; y < end; y++) w[y - start] = Math.max(0, Math.min(hi, y + 1) - Math.max(lo, y)) / (hi - lo);
    return { start, w };
  });
}

/**
 * Box-filter resample of a [0,1] mask (srcH × srcW covering the image) to a level grid: cell (i, j)
 * covers the image fraction [i·S/h, min(1, (i+1)·S/h)) × [j·S/w, min(1, (j+1)·S/w)), h×w the latent.
 */
export function resampleMask(mask: Float32Array, srcH: number, srcW: number, latentH: number, latentW: number, grid: GridSize): Float32Array {
  if (mask.length !== srcH * srcW) throw new RangeError(`mask has ${mask.length} values, expected ${srcH}×${srcW}`);
  const along = (cells: number, latent: number, src: number) =>
    axisWeights(cells, src, (i) => [((i * grid.stride) / latent) * src, (Math.min(latent, (i + 1) * grid.stride) / latent) * src]);
  const wy = along(grid.h, latentH, srcH);
  const wx = along(grid.w, latentW, srcW);
  const out = new Float32Array(grid.h * grid.w);
  for (let i = 0; i < grid.h; i++) {
    const ay = wy[i]!;
    for (let j = 0; j < grid.w; j++) {
      const ax = wx[j]!;
      // divided by the weights' own sum (accumulated in the same order), so that a full mask gives
      // exactly 1 and an empty one exactly 0
      let s = 0;
      let total = 0;
      for (let y = 0; y < ay.w.length; y++) {
        const row = (ay.start + y) * srcW + ax.start;
        let r = 0;
        let rw = 0;
        for (let x = 0; x < ax.w.length; x++) {
          r += ax.w[x]! * mask[row + x]!;
          rw += ax.w[x]!;
        }
        s += ay.w[y]! * r;
        total += ay.w[y]! * rw;
      }
      out[i * grid.w + j] = Math.min(1, s / total);
    }
  }
  return out;
}

/** Grid of UNet level `level` for a latent h×w: each stride-2 conv (k 3, pad 1) gives floor((n−1)/2)+1 = ceil(n/2). */
export function levelGrid(latentH: number, latentW: number, level: number): GridSize {
  let h = latentH;
  let w = latentW;
  for (let l = 0; l < level; l++) {
    h = Math.floor((h + 2 - 3) / 2) + 1;
    w = Math.floor((w + 2 - 3) / 2) + 1;
  }
  return { h, w, stride: 2 ** level };
}

/** Every distinct grid the UNet's transformer blocks run at (down block i and up block n−1−i at level i, mid at the last). */
export function attentionGrids(arch: UNetArch, latentH: number, latentW: number): GridSize[] {
  const n = arch.down.length;
  const levels = new Set<number>();
  arch.down.forEach((b, i) => b.attentions.length && levels.add(i));
  if (arch.mid.attention) levels.add(n - 1);
  arch.up.forEach((b, i) => b.attentions.length && levels.add(n - 1 - i));
  return [...levels].sort((a, b) => a - b).map((l) => levelGrid(latentH, latentW, l));
}

export interface RegionMaskSet {
  /** Per region, the latent-resolution mask [h·w] (Eq. 5's m̂_u^L). */
  latent: Float32Array[];
  /** Per attention grid (key regionalMaskKey(h, w)), all regions' masks stacked [U·h·w]. */
  attention: Map<string, { grid: GridSize; data: Float32Array }>;
}

/** All masks a regional run needs, from the regions' painted masks (each covering the whole image). */
export function buildRegionMasks(masks: MaskImage[], arch: UNetArch, imageH: number, imageW: number, latentFactor = LATENT_FACTOR): RegionMaskSet {
  const latentH = imageH / latentFactor;
  const latentW = imageW / latentFactor;
  if (!Number.isInteger(latentH) || !Number.isInteger(latentW)) throw new RangeError(`image ${imageH}×${imageW} is not a multiple of ${latentFactor}`);
  const norm = masks.map(normalizeMask);
  const at = (grid: GridSize) => norm.map((m, u) => resampleMask(m, masks[u]!.height, masks[u]!.width, latentH, latentW, grid));
  const attention = new Map<string, { grid: GridSize; data: Float32Array }>();
  for (const grid of attentionGrids(arch, latentH, latentW)) {
    const per = at(grid);
    const data = new Float32Array(per.length * grid.h * grid.w);
    per.forEach((m, u) => data.set(m, u * grid.h * grid.w));
    attention.set(regionalMaskKey(grid.h, grid.w), { grid, data });
  }
  return { latent: at(levelGrid(latentH, latentW, 0)), attention };
}
