/**
 * Matmul tile autotuning (issue 15 point 4): the tile that is fastest for a shape differs between GPUs
 * (a 128×128 tile fills an H100 and starves a laptop GPU) and no one heuristic knows them all. So at
 * the first model load the engine times each candidate tile on the real shapes of one UNet step and
 * keeps the fastest per shape; the table is remembered per adapter (storage/tuning-store.ts) and can be
 * re-run from the GPU page.
 *
 * Only the tile is tuned: every candidate accumulates each output over k in the same order (one FMA
 * per k, BK only changes how k is staged), so the choice never changes a single bit of the result and
 * "same seed, same image" holds across tunings. Split-K, which reorders the sum, stays heuristic.
 */
import type { GpuContext } from '../gpu/context';
import type { DType, Tensor } from '../gpu/tensor';
import { TILE_128, TILE_32X8, TILE_64, TILE_64X8, matmul, type TileConfig } from './matmul';
import { matmulTuningKey, type MatmulTunable } from './matmul-tile-choice';

/** The tiles an autotune tries (each within 16 KiB of workgroup memory, the WebGPU minimum). */
export const TILE_CANDIDATES: readonly TileConfig[] = [TILE_64X8, TILE_64, TILE_128, TILE_32X8];

export interface TuneResult {
  key: string;
  tile: TileConfig;
  /** ms of one run per candidate, in TILE_CANDIDATES order (Infinity: not timed). */
  ms: number[];
  /** ms of the tile the built-in heuristic picks. */
  defaultMs: number;
}

function randomTensor(ctx: GpuContext, shape: number[], dtype: DType, seed: number): Tensor {
  return ctx.upload(randomData(shape, seed), shape, dtype, 'tune-input');
}

function randomData(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 0.1;
  }
  return data;
}

/**
 * Times every candidate tile on one problem: a warm-up run (compile), then `reps` runs in one
 * submission, timed to onSubmittedWorkDone. Returns the fastest.
 */
export async function tuneMatmul(ctx: GpuContext, t: MatmulTunable, heuristic: TileConfig, reps = 3): Promise<TuneResult> {
  const { p } = t;
  const aShape = [...(p.strideA ? [p.batch] : []), ...(t.transA ? [p.K, p.M] : [p.M, p.K])];
  const bShape = [...(p.strideB ? [p.batch] : []), ...(t.transB ? [p.N, p.K] : [p.K, p.N])];
  const a = randomTensor(ctx, aShape, t.dtype, 1);
  // packed f16 weights (no shader-f16): a dedicated weight buffer, freed below
  const b = t.packedB ? ctx.uploadWeight(randomData(bShape, 2), bShape, 'f16', 'tune-weight') : randomTensor(ctx, bShape, t.dtype, 2);
  const ms: number[] = [];
  try {
    for (const tile of TILE_CANDIDATES) {
      const once = async () => ctx.release(await matmul(ctx, a, b, { transA: t.transA, transB: t.transB, tile, variant: 'tiled' }));
      await once();
      await ctx.flush();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await once();
      await ctx.flush();
      ms.push((performance.now() - t0) / reps);
    }
  } finally {
    ctx.release(a);
    if (t.packedB) ctx.destroyTensor(b);
    else ctx.release(b);
  }
  const best = ms.indexOf(Math.min(...ms));
  const defaultMs = ms[TILE_CANDIDATES.indexOf(heuristic)] ?? Infinity;
  return { key: matmulTuningKey(t), tile: TILE_CANDIDATES[best]!, ms, defaultMs };
}
