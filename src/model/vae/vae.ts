/**
 * The VAE on the GPU, untiled: decode a latent batch to an image tensor, encode an image tensor to its
 * posterior. tiled.ts builds the large-image paths (decodeAuto, encodeAuto, latentsToImage) on these.
 */
import type { GpuContext } from '../../gpu/context';
import { describe, type Tensor } from '../../gpu/tensor';
import type { VaePart } from './arch';
import { GpuVaeBackend } from './backend';
import { decoderForward, encoderForward, type VaeTap } from './forward';
import { posteriorFromMoments, type HostTensor, type VaePosterior } from './image';
import type { LoadedVae } from './load';

export interface VaeEncoding {
  /** quant_conv output [B, 2·latent, h, w] (mean ‖ raw logvar). */
  moments: HostTensor;
  posterior: VaePosterior;
}

export function vaeBackend(ctx: GpuContext, vae: LoadedVae): GpuVaeBackend {
  return new GpuVaeBackend(ctx, vae.weights, vae.dtype, vae.source);
}

export function need(vae: LoadedVae, part: VaePart, x: Tensor, what: string): void {
  if (!vae.parts.includes(part)) throw new Error(`VAE ${what}: the ${part} was not loaded (load it with parts including '${part}')`);
  if (x.dtype !== vae.dtype) throw new RangeError(`VAE ${what}: input is ${describe(x)} but the weights are ${vae.dtype}`);
  if (x.shape.length !== 4) throw new RangeError(`VAE ${what}: input must be NCHW, got ${describe(x)}`);
}

/**
 * AutoencoderKL.decode(z).sample: z [B, latent, h, w] unscaled (divide the UNet's latents by the
 * scaling factor first) → a new image tensor [B, 3, 8h, 8w], unclamped. z is not consumed. The whole
 * latent is decoded at once: see vaeDecodeAuto for sizes whose activations exceed a binding.
 */
export async function vaeDecode(ctx: GpuContext, vae: LoadedVae, z: Tensor, tap?: VaeTap<Tensor>): Promise<Tensor> {
  need(vae, 'decoder', z, 'decode');
  if (z.shape[1] !== vae.arch.latentChannels) throw new RangeError(`VAE decode: z ${describe(z)} needs ${vae.arch.latentChannels} channels`);
  return decoderForward(vaeBackend(ctx, vae), vae.arch, z, tap);
}

/** quant_conv(encoder(image)) as a new tensor [B, 2·latent, ⌊H/8⌋, ⌊W/8⌋]; image (in [-1, 1]) is not consumed. */
export async function vaeEncodeMoments(ctx: GpuContext, vae: LoadedVae, image: Tensor, tap?: VaeTap<Tensor>): Promise<Tensor> {
  need(vae, 'encoder', image, 'encode');
  if (image.shape[1] !== vae.arch.inChannels) throw new RangeError(`VAE encode: image ${describe(image)} needs ${vae.arch.inChannels} channels`);
  return encoderForward(vaeBackend(ctx, vae), vae.arch, image, tap);
}

/**
 * AutoencoderKL.encode(image).latent_dist: the moments read back and split into mean, logvar (clamped
 * to [-30, 20]) and std on the host (latent-sized, once per image). The UNet's img2img input is
 * posterior.mean (or samplePosterior) × scaling factor.
 */
export async function vaeEncode(ctx: GpuContext, vae: LoadedVae, image: Tensor, tap?: VaeTap<Tensor>): Promise<VaeEncoding> {
  const m = await vaeEncodeMoments(ctx, vae, image, tap);
  const moments = { data: await ctx.read(m), shape: [...m.shape] };
  ctx.release(m);
  return { moments, posterior: posteriorFromMoments(moments) };
}
