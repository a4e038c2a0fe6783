/**
 * Host-side (CPU) ends of the VAE: the posterior from the moments (DiagonalGaussianDistribution,
 * diffusers models/autoencoders/vae.py), the pipeline's image post-processing, and RGBA8 conversions
 * for display and for feeding photos to the encoder. These touch latent- or image-sized arrays only
 * once per image, so they stay off the GPU.
 */

/** A tensor on the host: row-major f32 data and its NCHW shape. */
export interface HostTensor {
  data: Float32Array;
  shape: number[];
}

export interface VaePosterior {
  /** [B, latent, h, w] */
  shape: number[];
  mean: Float32Array;
  /** log variance, clamped to [-30, 20] as diffusers does. */
  logvar: Float32Array;
  /** exp(0.5 · logvar) */
  std: Float32Array;
}

/** moments [B, 2L, h, w] = mean ‖ logvar along dim 1 (torch.chunk(parameters, 2, dim=1)). */
export function posteriorFromMoments(moments: HostTensor): VaePosterior {
  const [b, c2, h, w] = moments.shape as [number, number, number, number];
  if (moments.shape.length !== 4 || c2 % 2 !== 0) throw new RangeError(`moments must be [B, 2L, h, w], got [${moments.shape.join(', ')}]`);
  const l = c2 / 2;
  const per = l * h * w;
  const mean = new Float32Array(b * per);
  const logvar = new Float32Array(b * per);
  const std = new Float32Array(b * per);
  for (let i = 0; i < b; i++) {
    mean.set(moments.data.subarray(i * 2 * per, i * 2 * per + per), i * per);
    const lv = moments.data.subarray(i * 2 * per + per, (i + 1) * 2 * per);
    for (let j = 0; j < per; j++) {
      const v = Math.min(20, Math.max(-30, lv[j]!));
      logvar[i * per + j] = v;
      std[i * per + j] = Math.exp(0.5 * v);
    }
  }
  return { shape: [b, l, h, w], mean, logvar, std };
}

/** DiagonalGaussianDistribution.sample with the caller's noise: mean + std · eps. */
export function samplePosterior(p: VaePosterior, eps: ArrayLike<number>): Float32Array {
  if (eps.length !== p.mean.length) throw new RangeError(`eps has ${eps.length} values, the posterior ${p.mean.length}`);
  const out = new Float32Array(p.mean.length);
  for (let i = 0; i < out.length; i++) out[i] = p.mean[i]! + p.std[i]! * eps[i]!;
  return out;
}

/** x · s (e.g. latents · scaling_factor for the UNet, or / scaling_factor before decoding). */
export function scaled(x: ArrayLike<number>, s: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! * s;
  return out;
}

/** The pipeline's post-processing: (x / 2 + 0.5).clamp(0, 1) (VaeImageProcessor.denormalize). */
export function imageToUnit(x: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, x[i]! / 2 + 0.5));
  return out;
}

/**
 * One image of a [B, 3, H, W] batch in [0, 1] as RGBA8 pixels (ImageData layout, alpha 255), rounded
 * like diffusers' numpy_to_pil ((x · 255).round()).
 */
export function unitToRgba8(image: HostTensor, index = 0): Uint8ClampedArray<ArrayBuffer> {
  const [b, c, h, w] = image.shape as [number, number, number, number];
  if (image.shape.length !== 4 || c !== 3 || index < 0 || index >= b) throw new RangeError(`need image ${index} of [B, 3, H, W], got [${image.shape.join(', ')}]`);
  const hw = h * w;
  const base = index * 3 * hw;
  const out = new Uint8ClampedArray(hw * 4);
  for (let p = 0; p < hw; p++) {
    for (let k = 0; k < 3; k++) out[p * 4 + k] = Math.round(Math.min(1, Math.max(0, image.data[base + k * hw + p]!)) * 255);
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** RGBA8 pixels (ImageData) → a [1, 3, H, W] encoder input in [-1, 1] (VaeImageProcessor: x/255·2 − 1). */
export function rgba8ToImage(rgba: ArrayLike<number>, width: number, height: number): HostTensor {
  const hw = width * height;
  if (rgba.length !== hw * 4) throw new RangeError(`${rgba.length} bytes for ${width}×${height} RGBA`);
  const data = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++) for (let k = 0; k < 3; k++) data[k * hw + p] = (rgba[p * 4 + k]! / 255) * 2 - 1;
  return { data, shape: [1, 3, height, width] };
}
