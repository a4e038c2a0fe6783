/**
 * Memory plan of a VAE decode or encode, and the tiling choice that keeps it inside the limits: the
 * real forward (forward.ts) runs on the shapes-only PlanVaeBackend, so the numbers are the allocation
 * trace of the GPU run, not an estimate.
 *
 * The rule: run whole when the largest binding of the whole batch fits `maxBindingBytes` (default
 * 128 MiB, the default WebGPU maxStorageBufferBindingSize that DESIGN.md keeps every binding under).
 * Otherwise run in bands (banded.ts): the same computation as the whole run, GroupNorm statistics over
 * the whole image included, with every activation held as horizontal bands under the limit; its peak
 * memory is the whole run's (the plan reports it) and the largest activation's band count is given.
 *
 * lowMemory (or a forced tile size) picks the old approximate path instead: one image at a time in
 * overlapping tiles, each a separate network run whose GroupNorms see only that tile (diffusers'
 * tiled_decode makes the same approximation), blended on the host; its peak is one tile's working set.
 * Every activation is (channels · 4^level) × tile area (flash attention keeps no H·W × H·W score
 * matrix), so one probe run gives bytes per latent pixel, hence the largest tile area, and chooseGrid
 * picks the tile shape of least total work.
 *
 * SDXL (block_out_channels 128,256,512,512) at 1024² (latent 128²): the largest decoder activation is
 * the up_blocks.2 upsample output, 256 ch at 8× the latent: 512 MiB in f16 whole, 5 bands of ≤ 128
 * MiB. A low-memory tile may have 4096 latent pixels in f16 (2048 in f32); see vae-plan.test.ts.
 */
import { BYTES_PER_ELEMENT, numel, type DType } from '../../gpu/tensor';
import type { VaeConfig } from '../config';
import { vaeArch, vaeWeightShapes } from './arch';
import { rowBytes, splitRows } from './bands';
import { PlanVaeBackend } from './backend';
import { decoderForward, encoderForward } from './forward';
import { chooseGrid, gridFor, gridWork, type TileGrid } from './tiles';

export type VaeOp = 'decode' | 'encode';

export const DEFAULT_MAX_BINDING_BYTES = 128 * 2 ** 20;
/** Minimum overlap of neighbouring tiles, latent pixels (128 image pixels of linear blend). */
export const DEFAULT_TILE_OVERLAP = 16;

export interface VaeRunStats {
  largestActivation: { label: string; bytes: number; shape: number[] };
  peakActivationBytes: number;
  activationPoolBytes: number;
}

export interface VaePlanOptions {
  op: VaeOp;
  /** Latent size (the image is arch.factor times larger). */
  height: number;
  width: number;
  batch?: number;
  dtype: DType;
  maxBindingBytes?: number;
  /** Approximate independent tiles instead of bands when the whole run does not fit (see the header). */
  lowMemory?: boolean;
  /** Force tiling with tiles of at most this size (latent pixels). */
  tile?: { height: number; width: number };
  overlap?: number;
}

export type VaeRunMode = 'whole' | 'bands' | 'tiles';

export interface VaePlan extends VaeRunStats {
  op: VaeOp;
  /** whole: one run; bands: one run in bands (exact); tiles: approximate independent tiles. */
  mode: VaeRunMode;
  /** mode === 'tiles'. */
  tiled: boolean;
  /** Bands the largest activation is held in (1 unless mode is 'bands'). */
  bands: number;
  /** One tile covering everything when untiled. */
  grid: TileGrid;
  tiles: number;
  /** Largest single binding of one network run (a tile, a band, or the whole batch): weights and activations. */
  largestBindingBytes: number;
  weightBytes: number;
  /** Latent pixels run through the network / latent pixels of the image (1 untiled, > 1 with overlaps). */
  workRatio: number;
}

/** Runs the forward on shapes only for one network run over a [batch, ·, height, width] latent. */
export async function planVaeRun(config: VaeConfig, op: VaeOp, batch: number, height: number, width: number, dtype: DType): Promise<VaeRunStats & { used: Set<string> }> {
  const arch = vaeArch(config);
  const be = new PlanVaeBackend(vaeWeightShapes(config, [op === 'decode' ? 'decoder' : 'encoder']), dtype, dtype);
  const f = arch.factor;
  const x = op === 'decode' ? be.input([batch, arch.latentChannels, height, width], 'z') : be.input([batch, arch.inChannels, f * height, f * width], 'image');
  const out = op === 'decode' ? await decoderForward(be, arch, x) : await encoderForward(be, arch, x);
  be.release(out, x);
  if (be.liveTensors !== 0) throw new Error(`VAE plan: the ${op} leaked ${be.liveTensors} tensors`);
  const s = be.stats;
  return { largestActivation: s.largestActivation, peakActivationBytes: s.peakActivationBytes, activationPoolBytes: s.poolBytes, used: be.used };
}

function weightStats(config: VaeConfig, op: VaeOp, dtype: DType): { total: number; largest: number } {
  let total = 0;
  let largest = 0;
  for (const shape of vaeWeightShapes(config, [op === 'decode' ? 'decoder' : 'encoder']).values()) {
    const b = Math.ceil((numel(shape) * BYTES_PER_ELEMENT[dtype]) / 4) * 4;
    total += b;
    largest = Math.max(largest, b);
  }
  return { total, largest };
}

export async function planVae(config: VaeConfig, o: VaePlanOptions): Promise<VaePlan> {
  const batch = o.batch ?? 1;
  const limit = o.maxBindingBytes ?? DEFAULT_MAX_BINDING_BYTES;
  const overlap = o.overlap ?? DEFAULT_TILE_OVERLAP;
  const weights = weightStats(config, o.op, o.dtype);
  if (weights.largest > limit) throw new RangeError(`VAE plan: a weight of ${weights.largest} bytes exceeds the ${limit}-byte binding limit`);
  const finish = (tiled: boolean, grid: TileGrid, run: VaeRunStats, bands = 1, bandBytes = run.largestActivation.bytes): VaePlan => ({
    op: o.op,
    mode: tiled ? 'tiles' : bands > 1 ? 'bands' : 'whole',
    tiled,
    bands,
    grid,
    tiles: grid.rows.length * grid.cols.length,
    ...run,
    largestBindingBytes: Math.max(weights.largest, bandBytes),
    weightBytes: weights.total,
    workRatio: gridWork(grid) / (o.height * o.width),
  });
  if (!o.tile) {
    const whole = await planVaeRun(config, o.op, batch, o.height, o.width, o.dtype);
    const one = gridFor(o.height, o.width, { height: o.height, width: o.width }, overlap);
    if (whole.largestActivation.bytes <= limit) return finish(false, one, whole);
    if (!o.lowMemory) {
      // the largest activation's bands (with a 3×3 conv's halo); banded.ts checks every band at run time
      const a = whole.largestActivation;
      const per = rowBytes(a.shape, o.dtype);
      const split = splitRows(a.shape.length === 4 ? a.shape[2]! : 1, per, limit, { halo: 2 });
      const bandBytes = Math.max(...split.map((r) => Math.ceil(((r.end - r.start) * per) / 4) * 4));
      return finish(false, one, whole, split.length, bandBytes);
    }
  }
  let grid: TileGrid | null;
  if (o.tile) {
    grid = gridFor(o.height, o.width, o.tile, overlap);
  } else {
    const probe = await planVaeRun(config, o.op, 1, 16, 16, o.dtype);
    let maxArea = Math.floor((limit / probe.largestActivation.bytes) * 256);
    for (;;) {
      grid = chooseGrid(o.height, o.width, maxArea, overlap);
      if (!grid) throw new RangeError(`VAE plan: no tile of ≤ ${maxArea} latent pixels can overlap its neighbours by ${overlap}`);
      const run = await planVaeRun(config, o.op, 1, grid.tileHeight, grid.tileWidth, o.dtype);
      if (run.largestActivation.bytes <= limit) return finish(true, grid, run);
      maxArea = Math.floor(maxArea * 0.95); // 4-byte rounding of odd sizes; never seen, but stay safe
    }
  }
  return finish(true, grid, await planVaeRun(config, o.op, 1, grid.tileHeight, grid.tileWidth, o.dtype));
}
