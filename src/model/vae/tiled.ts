/**
 * Large-image VAE paths: vaeDecodeAuto / vaeEncodeAuto run the whole batch at once when the memory plan
 * (plan.ts) says every binding fits, and otherwise in bands (banded.ts, banded-run.ts): the same
 * computation with each activation held as horizontal bands under the binding limit and every GroupNorm
 * normalised with the statistics of the whole image, as diffusers' untiled decode does. Banded and whole
 * agree to rounding (tiny VAE, batch 2, odd latent: max |Δ| on [0, 1] images 1.8e-6 in f32, 2.2e-3
 * in f16 storage; banded.gpu.test.ts asserts ≤ 1e-5 and ≤ 1e-2). latentsToImage is the text-to-image tail: latents / scaling_factor → decode →
 * (x / 2 + 0.5).clamp(0, 1).
 *
 * lowMemory (or a forced tile size) takes the APPROXIMATE path instead, for devices that cannot hold the
 * whole image's activations: one image at a time in overlapping tiles blended on the host (tiles.ts),
 * each a separate network run whose GroupNorms see only that tile's statistics (diffusers'
 * tiled_decode accepts the same; tiled.gpu.test.ts bounds the mean error by 0.35× the image rms).
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { scale } from '../../ops/elementwise';
import { imageToUnit, posteriorFromMoments, type HostTensor } from './image';
import type { LoadedVae } from './load';
import { DEFAULT_MAX_BINDING_BYTES, DEFAULT_TILE_OVERLAP, planVae, type VaeOp, type VaePlan } from './plan';
import { GpuOutOfMemoryError } from '../../gpu/errors';
import { accumulateTile, axisWeights, cropTile, type TileGrid } from './tiles';
import { vaeDecodeBanded, vaeEncodeMomentsBanded } from './banded-run';
import { vaeDecode, vaeEncodeMoments, type VaeEncoding } from './vae';

export interface TiledOptions {
  /** Largest binding allowed; default min(128 MiB, the device's maxStorageBufferBindingSize). */
  maxBindingBytes?: number;
  /**
   * Approximate independent tiles instead of bands when the whole run does not fit: holds one tile's
   * working set instead of the whole image's activations, at the cost of per-tile GroupNorm statistics.
   */
  lowMemory?: boolean;
  /** Force (approximate) tiling with tiles of at most this many latent pixels per side (tests, low-memory devices). */
  tile?: { height: number; width: number };
  /** Minimum overlap of neighbouring tiles, latent pixels (default DEFAULT_TILE_OVERLAP). */
  overlap?: number;
  /** Called after each tile (tiled runs only). */
  onTile?: (done: number, total: number) => void;
  /**
   * Called when a whole or banded decode or encode ran out of GPU memory and falls back to tiles
   * (withTileFallback), with the tile count about to be tried.
   */
  onOutOfMemory?: (tiles: number) => void;
  signal?: AbortSignal;
}

function limitOf(ctx: GpuContext, o: TiledOptions): number {
  return o.maxBindingBytes ?? Math.min(DEFAULT_MAX_BINDING_BYTES, ctx.device.limits.maxStorageBufferBindingSize);
}

/** The plan vaeDecodeAuto / vaeEncodeAuto will follow for a latent of this size. */
export function planFor(ctx: GpuContext, vae: LoadedVae, op: VaeOp, batch: number, height: number, width: number, o: TiledOptions = {}): Promise<VaePlan> {
  return planVae(vae.arch.config, {
    op, height, width, batch, dtype: vae.dtype, maxBindingBytes: limitOf(ctx, o), lowMemory: o.lowMemory ?? false,
    ...(o.tile ? { tile: o.tile } : {}), ...(o.overlap !== undefined ? { overlap: o.overlap } : {}),
  });
}

/**
 * Runs `run` on every tile of every image and blends the outputs into a host tensor of `outShape`.
 * Tiles are cut from `input` at `inScale` input pixels per latent pixel and placed at `outScale`.
 */
async function runTiles(
  ctx: GpuContext, vae: LoadedVae, input: HostTensor, grid: TileGrid, outShape: number[], inScale: number, outScale: number,
  run: (x: Tensor) => Promise<Tensor>, o: TiledOptions,
): Promise<HostTensor> {
  const out: HostTensor = { data: new Float32Array(outShape.reduce((a, b) => a * b, 1)), shape: outShape };
  const wy = grid.rows.map((_, k) => axisWeights(grid.rows, k, outScale));
  const wx = grid.cols.map((_, k) => axisWeights(grid.cols, k, outScale));
  const total = input.shape[0]! * grid.rows.length * grid.cols.length;
  let done = 0;
  for (let b = 0; b < input.shape[0]!; b++) {
    for (const [r, rows] of grid.rows.entries()) {
      for (const [c, cols] of grid.cols.entries()) {
        o.signal?.throwIfAborted();
        const tile = cropTile(input, b, rows, cols, inScale);
        const x = ctx.upload(tile.data, tile.shape, vae.dtype, 'vae-tile');
        try {
          const y = await run(x);
          const data = await ctx.read(y);
          ctx.release(y);
          accumulateTile(out, b, { data, shape: [...y.shape] }, rows, cols, wy[r]!, wx[c]!, outScale);
        } finally {
          ctx.release(x);
        }
        o.onTile?.(++done, total);
      }
    }
  }
  return out;
}

/**
 * vaeDecode() when it fits the binding limit, else the banded decode (exact), or with lowMemory the
 * tiled decode (approximate; blended on the host, then uploaded): a new image tensor [B, 3, 8h, 8w] of
 * the VAE's dtype, unclamped. z (unscaled) is not consumed.
 */
export async function vaeDecodeAuto(ctx: GpuContext, vae: LoadedVae, z: Tensor, o: TiledOptions = {}): Promise<Tensor> {
  const [b, l, h, w] = z.shape as [number, number, number, number];
  const plan = await planFor(ctx, vae, 'decode', b, h, w, o);
  o.signal?.throwIfAborted();
  return withTileFallback(ctx, vae, 'decode', [b, h, w], plan, o, async () => {
    const img = plan.mode === 'bands' ? await vaeDecodeBanded(ctx, vae, z, limitOf(ctx, o)) : await vaeDecode(ctx, vae, z);
    try {
      await ctx.flush(); // a device error (out of memory) surfaces here, where the fallback can act on it
    } catch (err) {
      ctx.release(img);
      throw err;
    }
    return img;
  }, async (grid) => {
    const host = await vaeDecodeTiledHost(ctx, vae, { data: await ctx.read(z), shape: [b, l, h, w] }, grid, o);
    return ctx.upload(host.data, host.shape, vae.dtype, 'vae-image');
  });
}

/**
 * Runs a whole or banded decode or encode (`run`), and where the GPU runs out of memory in it (the plan
 * counts bindings against the limit; it cannot know what else holds the device's memory), runs in
 * approximate tiles instead (`tiles`): a quarter of the latent per tile, then a sixteenth. A faintly
 * seamed result (per-tile GroupNorm statistics, as diffusers' tiled decode and encode) beats none. A
 * tiled plan runs as planned, without a fallback. [b, h, w]: the batch and the latent size planned.
 */
async function withTileFallback<R>(
  ctx: GpuContext, vae: LoadedVae, op: VaeOp, [b, h, w]: [number, number, number], plan: VaePlan, o: TiledOptions,
  run: () => Promise<R>, tiles: (grid: TileGrid) => Promise<R>,
): Promise<R> {
  if (plan.mode === 'tiles') return tiles(plan.grid);
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof GpuOutOfMemoryError)) throw err;
    const overlap = o.overlap ?? DEFAULT_TILE_OVERLAP;
    let last: unknown = err;
    for (const parts of [2, 4]) {
      const tile = { height: Math.max(2 * overlap, Math.ceil(h / parts)), width: Math.max(2 * overlap, Math.ceil(w / parts)) };
      if (tile.height >= h && tile.width >= w) break; // no smaller tile than the whole latent
      const smaller = await planFor(ctx, vae, op, b, h, w, { ...o, tile });
      o.onOutOfMemory?.(smaller.tiles * b);
      o.signal?.throwIfAborted();
      try {
        return await tiles(smaller.grid);
      } catch (e) {
        if (!(e instanceof GpuOutOfMemoryError)) throw e;
        last = e;
      }
    }
    throw last;
  }
}

/** vaeDecodeAuto() on the host with one read: a tiled decode's blended image is returned as is (not uploaded to be read again). */
export async function vaeDecodeAutoHost(ctx: GpuContext, vae: LoadedVae, z: Tensor, o: TiledOptions = {}): Promise<HostTensor> {
  const [b, l, h, w] = z.shape as [number, number, number, number];
  const plan = await planFor(ctx, vae, 'decode', b, h, w, o);
  o.signal?.throwIfAborted();
  return withTileFallback(ctx, vae, 'decode', [b, h, w], plan, o, async () => {
    const img = plan.mode === 'bands' ? await vaeDecodeBanded(ctx, vae, z, limitOf(ctx, o)) : await vaeDecode(ctx, vae, z);
    try {
      return { data: await ctx.read(img), shape: [...img.shape] };
    } finally {
      ctx.release(img);
    }
  }, async (grid) => vaeDecodeTiledHost(ctx, vae, { data: await ctx.read(z), shape: [b, l, h, w] }, grid, o));
}

/** The tiled decode of a host latent [B, latent, h, w] on a given grid, blended on the host. */
export function vaeDecodeTiledHost(ctx: GpuContext, vae: LoadedVae, z: HostTensor, grid: TileGrid, o: TiledOptions = {}): Promise<HostTensor> {
  const [b, , h, w] = z.shape as [number, number, number, number];
  const f = vae.arch.factor;
  return runTiles(ctx, vae, z, grid, [b, vae.arch.outChannels, f * h, f * w], 1, f, (x) => vaeDecode(ctx, vae, x), o);
}

/**
 * vaeEncode() when it fits, else the banded encode (exact), or with lowMemory tiles in latent space
 * blended in moment space (diffusers tiled_encode blends the moments too; approximate); the posterior
 * is taken from the moments. Tiling needs a size that is a multiple of the VAE factor (8).
 */
export async function vaeEncodeAuto(ctx: GpuContext, vae: LoadedVae, image: HostTensor, o: TiledOptions = {}): Promise<VaeEncoding> {
  const [b, , H, W] = image.shape as [number, number, number, number];
  const f = vae.arch.factor;
  const [h, w] = [Math.floor(H / f), Math.floor(W / f)]; // each downsample floors the half
  // planned at the next multiple of 8 (the plan's image is factor × latent): never under the real size
  const planned: [number, number, number] = [b, Math.ceil(H / f), Math.ceil(W / f)];
  const plan = await planFor(ctx, vae, 'encode', ...planned, o);
  const whole = async (): Promise<HostTensor> => {
    o.signal?.throwIfAborted();
    const x = ctx.upload(image.data, image.shape, vae.dtype, 'vae-image');
    try {
      const m = plan.mode === 'bands' ? await vaeEncodeMomentsBanded(ctx, vae, x, limitOf(ctx, o)) : await vaeEncodeMoments(ctx, vae, x);
      try {
        return { data: await ctx.read(m), shape: [...m.shape] };
      } finally {
        ctx.release(m);
      }
    } finally {
      ctx.release(x);
    }
  };
  const tileable = H % f === 0 && W % f === 0;
  if (plan.tiled && !tileable) throw new RangeError(`VAE encode: a ${W}×${H} image is too large to encode at once and tiling needs sides that are multiples of ${f}`);
  const tiles = (grid: TileGrid) => runTiles(ctx, vae, image, grid, [b, 2 * vae.arch.latentChannels, h, w], f, 1, (x) => vaeEncodeMoments(ctx, vae, x), o);
  // an image whose sides are not multiples of the factor cannot be tiled: no fallback for it
  const moments = tileable ? await withTileFallback(ctx, vae, 'encode', planned, plan, o, whole, tiles) : await whole();
  return { moments, posterior: posteriorFromMoments(moments) };
}

/**
 * The pipeline's last step: latents (UNet space, i.e. scaled) / scaling_factor → decode (tiled when
 * needed) → (x / 2 + 0.5).clamp(0, 1). Returns [B, 3, 8h, 8w] in [0, 1] on the host; see unitToRgba8.
 */
export async function latentsToImage(ctx: GpuContext, vae: LoadedVae, latents: Tensor, o: TiledOptions = {}): Promise<HostTensor> {
  const z = await scale(ctx, latents, 1 / vae.arch.scalingFactor);
  try {
    const img = await vaeDecodeAuto(ctx, vae, z, o);
    const data = await ctx.read(img);
    ctx.release(img);
    return { data: imageToUnit(data), shape: [...img.shape] };
  } finally {
    ctx.release(z);
  }
}
