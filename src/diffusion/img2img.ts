/**
 * The rules of image to image and inpainting, as diffusers 0.25.1 computes them (tag v0.25.1; line
 * numbers below are of that tag). Pure functions over latent- or pixel-sized arrays; the loop
 * (text-to-image.ts, through image-to-image.ts) and the engine (paste-back) call them.
 *
 * Derivation.
 * 1. Timesteps for a strength (pipeline_stable_diffusion_xl_img2img.py get_timesteps, l. 640–674,
 *    copied into the inpaint pipeline): init_timestep = min(int(steps·strength), steps),
 *    t_start = max(steps − init_timestep, 0), timesteps = scheduler.timesteps[t_start·order:]. Every
 *    scheduler here has order 1 (DPM-Solver++ 2M is multistep, not multi-stage), and the Euler/DPM
 *    sigma arrays are indexed by the same step index: diffusers' _init_step_index (scheduling_euler_
 *    discrete.py l. 396–411) finds t_start for the first timestep, and DPM-Solver starts with
 *    lower_order_nums = 0, i.e. a first-order step. So the loop runs the full schedule's indices
 *    t_start … steps−1 unchanged (strengthStartIndex). `int()` truncates toward zero (Math.trunc).
 * 2. The noised start latent (inpaint prepare_latents l. 852–857, img2img prepare_latents l. 734–738):
 *    x = scheduler.add_noise(image_latents, noise, timesteps[0]) with image_latents = VAE mean ×
 *    scaling_factor; at strength 1 (is_strength_max, inpaint l. 1527) pure noise × init_noise_sigma,
 *    so a run at strength 1 is the text-to-image run of that seed (the img2img pipeline would still
 *    add σ_max·noise to the image; the studio takes the inpaint rule for both). add_noise per
 *    scheduler (addNoiseCoefficients), at the step index of the timestep:
 *    - Euler, Euler a (scheduling_euler_discrete.py l. 525–548): x0 + σ_i·ε (variance exploding);
 *    - DPM-Solver++ (scheduling_dpmsolver_multistep.py l. 885–918, _sigma_to_alpha_sigma_t l. 354):
 *      α·x0 + σ_t·ε with α = 1/√(σ_i² + 1), σ_t = σ_i·α;
 *    - DDIM (scheduling_ddim.py l. 476–494) and PNDM (scheduling_pndm.py add_noise, the same formula):
 *      √ᾱ_t·x0 + √(1 − ᾱ_t)·ε. PNDM's schedule has steps + 1 entries (PLMS repeats one timestep); the
 *      pipelines index it at t_start all the same (scheduler.order is 1).
 *    Strength 0 (or int(steps·strength) = 0) leaves no step: the latents are the image's own, and the
 *    output is its VAE round trip (diffusers raises there instead).
 * 3. The inpaint blend after every step, 4-channel UNets only (inpaint l. 1729–1742):
 *    proper = add_noise(image_latents, noise, timesteps[i+1]) (the image latents themselves after the
 *    last step), latents = (1 − m)·proper + m·latents, with the same noise as the start latent.
 * 4. The mask (inpaint l. 421–423 mask_processor: grayscale, do_binarize; image_processor.py binarize
 *    l. 391–405: < 0.5 → 0, else 1), then torch.nn.functional.interpolate to the latent size (l. 904,
 *    default mode 'nearest': source index ⌊dst·in/out⌋, i.e. the top-left pixel of each cell).
 *    Mask blur is A1111's "Mask blur" (PIL GaussianBlur, radius = σ; diffusers' mask_processor.blur
 *    l. 170) applied to the pixel mask before it is binarized, and used soft for the paste-back.
 * 5. 9-channel inpainting UNets (config in_channels 9; inpaint l. 1546, 1701): the UNet input is
 *    [scaled latents (4), mask (1), masked image latents (4)] on the channel axis, the masked image
 *    being image·(mask < 0.5) (l. 1541) encoded like the init image; no blend (l. 1729).
 * 6. Paste-back ("keep the outside exactly", A1111's apply_overlay): out = input·(1 − m) + decoded·m
 *    on RGBA8 with the blurred mask m; where m = 0 the input's bytes are copied, so every pixel the
 *    mask does not reach is bit for bit the input.
 */
import type { Scheduler } from './schedulers/common';
import { DDIMScheduler } from './schedulers/ddim';
import { PndmScheduler } from './schedulers/pndm';
import { DPMSolverMultistepScheduler } from './schedulers/dpmpp-2m';

/** Bad edit settings (strength, mask, sizes), named so that callers can tell them from GPU failures. */
export class EditParamsError extends RangeError {
  override readonly name = 'EditParamsError';
  readonly code = 'bad-edit-params';
}

/** scheduler.add_noise as noisy = signal·x0 + noise·ε. */
export interface NoiseCoefficients {
  signal: number;
  noise: number;
}

/** t_start of get_timesteps: the schedule index the run starts at (steps: no step at all). */
export function strengthStartIndex(steps: number, strength: number): number {
  if (!(strength >= 0 && strength <= 1)) throw new EditParamsError(`The strength must be from 0 to 1, got ${strength}.`);
  const initTimestep = Math.min(Math.trunc(steps * strength), steps);
  return Math.max(steps - initTimestep, 0);
}

/** add_noise of the scheduler at schedule index i (see 2. above). */
export function addNoiseCoefficients(s: Scheduler, i: number): NoiseCoefficients {
  if (s instanceof DDIMScheduler || s instanceof PndmScheduler) {
    const a = s.alphasCumprod[s.timesteps[i]!]!;
    return { signal: Math.sqrt(a), noise: Math.sqrt(1 - a) };
  }
  const sigma = s.sigmas?.[i];
  if (sigma === undefined) throw new RangeError(`add_noise: the scheduler has no sigma for step ${i}`);
  if (s instanceof DPMSolverMultistepScheduler) {
    const alpha = 1 / Math.sqrt(sigma * sigma + 1);
    return { signal: alpha, noise: sigma * alpha };
  }
  return { signal: 1, noise: sigma };
}

/** signal·x0 + noise·ε, elementwise. */
export function addNoise(x0: Float32Array, eps: Float32Array, c: NoiseCoefficients): Float32Array {
  const out = new Float32Array(x0.length);
  for (let k = 0; k < out.length; k++) out[k] = c.signal * x0[k]! + c.noise * eps[k]!;
  return out;
}

/** The latents the loop starts from at schedule index `start` (see 2. above). */
export function noisedStart(imageLatents: Float32Array, noise: Float32Array, strength: number, s: Scheduler, start: number): Float32Array {
  if (noise.length !== imageLatents.length) throw new RangeError(`noise has ${noise.length} values, the image latents ${imageLatents.length}`);
  if (strength === 1) return noise.map((v) => v * s.initNoiseSigma);
  if (start >= s.timesteps.length) return imageLatents.slice();
  return addNoise(imageLatents, noise, addNoiseCoefficients(s, start));
}

/**
 * The 4-channel inpaint blend after step i (see 3. above): `mask` is latent-sized (h·w, 1 = repaint)
 * and broadcast over the channels; `next` is add_noise at index i + 1, null after the last step.
 */
export function inpaintBlend(latents: Float32Array, imageLatents: Float32Array, noise: Float32Array, mask: Float32Array, next: NoiseCoefficients | null): Float32Array {
  const hw = mask.length;
  if (latents.length % hw !== 0 || imageLatents.length !== latents.length) throw new RangeError(`blend: ${latents.length} latents, ${imageLatents.length} image latents, mask of ${hw}`);
  const c = next ?? { signal: 1, noise: 0 };
  const out = new Float32Array(latents.length);
  for (let k = 0; k < out.length; k++) {
    const m = mask[k % hw]!;
    const proper = c.signal * imageLatents[k]! + c.noise * noise[k]!;
    out[k] = (1 - m) * proper + m * latents[k]!;
  }
  return out;
}

/** VaeImageProcessor.binarize: < 0.5 → 0, else 1. */
export function binarizeMask(mask: Float32Array): Float32Array {
  return mask.map((v) => (v < 0.5 ? 0 : 1));
}

/** The binarized pixel mask (width × height) at latent size, torch 'nearest' (see 4. above). */
export function maskToLatent(mask: Float32Array, width: number, height: number, factor: number): Float32Array {
  if (mask.length !== width * height) throw new EditParamsError(`The mask has ${mask.length} values, the image ${width}×${height} pixels.`);
  const [h, w] = [Math.floor(height / factor), Math.floor(width / factor)];
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(Math.floor((y * height) / h), height - 1);
    for (let x = 0; x < w; x++) {
      const sx = Math.min(Math.floor((x * width) / w), width - 1);
      out[y * w + x] = mask[sy * width + sx]! < 0.5 ? 0 : 1;
    }
  }
  return out;
}

/** The 1-D Gaussian of standard deviation sigma, truncated at 3σ and normalized. */
function gaussianKernel(sigma: number): Float64Array {
  const r = Math.ceil(3 * sigma);
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / sum);
}

/** Mask blur (see 4. above): a separable Gaussian of σ = `blur` pixels, edges clamped; 0 returns a copy. */
export function blurMask(mask: Float32Array, width: number, height: number, blur: number): Float32Array {
  if (!(blur >= 0) || !Number.isFinite(blur)) throw new EditParamsError(`The mask blur must be a number of pixels ≥ 0, got ${blur}.`);
  if (blur === 0) return mask.slice();
  const k = gaussianKernel(blur);
  const r = (k.length - 1) / 2;
  const pass = (src: Float32Array, horizontal: boolean) => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let i = -r; i <= r; i++) {
          const sx = horizontal ? Math.min(width - 1, Math.max(0, x + i)) : x;
          const sy = horizontal ? y : Math.min(height - 1, Math.max(0, y + i));
          acc += k[i + r]! * src[sy * width + sx]!;
        }
        out[y * width + x] = Math.min(1, acc);
      }
    }
    return out;
  };
  return pass(pass(mask, true), false);
}

/** image·(mask < 0.5) for a [1, 3, H, W] image in [-1, 1] and a pixel mask (see 5. above). */
export function maskedImage(image: Float32Array, mask: Float32Array): Float32Array {
  const hw = mask.length;
  return image.map((v, k) => (mask[k % hw]! < 0.5 ? v : 0));
}

/** The 9-channel UNet input (see 5. above): per batch row [scaled latents (4), mask (1), masked image latents (4)]. */
export function inpaintUnetInput(scaled: Float32Array, mask: Float32Array, maskedLatents: Float32Array, batch: number): Float32Array {
  const per = scaled.length + mask.length + maskedLatents.length;
  const out = new Float32Array(batch * per);
  for (let b = 0; b < batch; b++) {
    out.set(scaled, b * per);
    out.set(mask, b * per + scaled.length);
    out.set(maskedLatents, b * per + scaled.length + mask.length);
  }
  return out;
}

/** Paste-back (see 6. above): RGBA8 out = input·(1 − m) + decoded·m, the input's bytes where m = 0. */
export function pasteOutside(decoded: Uint8ClampedArray, input: Uint8ClampedArray, mask: Float32Array): Uint8ClampedArray<ArrayBuffer> {
  if (decoded.length !== input.length || input.length !== mask.length * 4) throw new EditParamsError(`paste-back: ${decoded.length} and ${input.length} bytes for a mask of ${mask.length} pixels`);
  const out = new Uint8ClampedArray(decoded.length);
  for (let p = 0; p < mask.length; p++) {
    const m = mask[p]!;
    for (let c = 0; c < 3; c++) {
      const k = p * 4 + c;
      out[k] = m <= 0 ? input[k]! : m >= 1 ? decoded[k]! : Math.round(input[k]! * (1 - m) + decoded[k]! * m);
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}
