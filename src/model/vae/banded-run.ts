/**
 * The VAE decode and encode on the banded backend (banded.ts): the untiled computation (diffusers
 * AutoencoderKL.decode / .encode without tiling, GroupNorm statistics over the whole image) for images
 * whose activations exceed one binding. Each returns the same tensor as vaeDecode / vaeEncodeMoments,
 * up to summation order; every binding stays ≤ `maxBindingBytes`. The whole activations stay resident
 * (the total memory is the untiled run's: see plan.ts for its peak).
 */
import type { GpuContext } from '../../gpu/context';
import { byteSize, describe, type Tensor } from '../../gpu/tensor';
import { BandedVaeBackend, wholeBand, type Banded } from './banded';
import { decoderForward, encoderForward } from './forward';
import type { LoadedVae } from './load';
import { need } from './vae';

export interface BandedRunStats {
  /** Largest band allocated (bytes); ≤ maxBindingBytes. */
  largestBandBytes: number;
  /** Most bands one activation was held in. */
  mostBands: number;
}

function backend(ctx: GpuContext, vae: LoadedVae, maxBindingBytes: number): BandedVaeBackend {
  return new BandedVaeBackend(ctx, vae.weights, vae.dtype, maxBindingBytes, vae.source);
}

/**
 * The network's output as one tensor: merged on the GPU when it fits a binding, else read band by band
 * and uploaded (an upload binds nothing, so only maxBufferSize applies). Consumes x.
 */
async function outputTensor(ctx: GpuContext, be: BandedVaeBackend, x: Banded, limit: number): Promise<Tensor> {
  if (x.bands.length === 1 || byteSize(x.shape, x.dtype) <= limit) return be.merged(x);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const data = new Float32Array(n * c * h * w);
  for (const [i, r] of x.rows.entries()) {
    const band = await ctx.read(x.bands[i]!);
    const rows = r.end - r.start;
    for (let p = 0; p < n * c; p++) data.set(band.subarray(p * rows * w, (p + 1) * rows * w), (p * h + r.start) * w);
  }
  be.release(x);
  return ctx.upload(data, x.shape, x.dtype, 'vae-banded-output');
}

/** vaeDecode in bands: z [B, latent, h, w] unscaled → a new image [B, out, f·h, f·w]; z is not consumed. */
export async function vaeDecodeBanded(ctx: GpuContext, vae: LoadedVae, z: Tensor, maxBindingBytes: number, stats?: (s: BandedRunStats) => void): Promise<Tensor> {
  need(vae, 'decoder', z, 'decode');
  if (z.shape[1] !== vae.arch.latentChannels) throw new RangeError(`VAE decode: z ${describe(z)} needs ${vae.arch.latentChannels} channels`);
  const be = backend(ctx, vae, maxBindingBytes);
  const out = await outputTensor(ctx, be, await decoderForward(be, vae.arch, wholeBand(z, true)), maxBindingBytes);
  stats?.({ largestBandBytes: be.largestBandBytes, mostBands: be.mostBands });
  return out;
}

/** vaeEncodeMoments in bands: image [B, in, H, W] in [-1, 1] → new moments [B, 2·latent, ⌊H/f⌋, ⌊W/f⌋]; image is not consumed. */
export async function vaeEncodeMomentsBanded(ctx: GpuContext, vae: LoadedVae, image: Tensor, maxBindingBytes: number, stats?: (s: BandedRunStats) => void): Promise<Tensor> {
  need(vae, 'encoder', image, 'encode');
  if (image.shape[1] !== vae.arch.inChannels) throw new RangeError(`VAE encode: image ${describe(image)} needs ${vae.arch.inChannels} channels`);
  const be = backend(ctx, vae, maxBindingBytes);
  const out = await outputTensor(ctx, be, await encoderForward(be, vae.arch, wholeBand(image, true)), maxBindingBytes);
  stats?.({ largestBandBytes: be.largestBandBytes, mostBands: be.mostBands });
  return out;
}
