/**
 * Image to image and inpainting inside the sampling loop (text-to-image.ts): the init image is VAE
 * encoded (posterior mean × scaling_factor), the run starts at the strength's schedule index from the
 * noised image latents, and after every step the 4-channel inpaint blend puts the noised image back
 * outside the mask; a 9-channel inpainting UNet gets the mask and the masked image's latents as extra
 * input channels instead. The rules and their derivation from diffusers are in img2img.ts.
 *
 * The posterior's mean, not a sample (diffusers' retrieve_latents samples with the run's generator):
 * the start latent is then a function of the image alone, so strength 0 is exactly the VAE round trip
 * and strength 1 draws the same noise as the text-to-image run of that seed.
 */
import { rgba8ToImage } from '../model/vae/image';
import type { Scheduler } from './schedulers/common';
import {
  addNoiseCoefficients,
  binarizeMask,
  EditParamsError,
  inpaintBlend,
  inpaintUnetInput,
  maskedImage,
  maskToLatent,
  noisedStart,
  type NoiseCoefficients,
  strengthStartIndex,
} from './img2img';
import type { SdxlPipelineParts } from './text-to-image';

/** The loop's edit input, already at the run's size (the engine fits, blurs and outpaints: edit-input.ts). */
export interface InitImage {
  /** RGBA8, width × height of the run (alpha ignored). */
  rgba: Uint8ClampedArray;
  /** 0 (the image's VAE round trip) … 1 (the image ignored outside the mask's blend). */
  strength: number;
  /** width × height, 0..1, 1 = repaint (blurred already); absent: the whole image (image to image). */
  mask?: Float32Array;
}

/** A 9-channel inpainting UNet without an init image, or a UNet of another input width. */
export class InpaintModelError extends Error {
  override readonly name = 'InpaintModelError';
  readonly code = 'inpaint-model';
}

export interface EditRun {
  /** The schedule index of the first step (timesteps.length: no step). */
  start: number;
  /** The latents at `start`. */
  latents: Float32Array;
  /** The UNet's input channels (4, or 9 for an inpainting UNet). */
  channels: number;
  /** The UNet input for `batch` rows from the scaled model input (4 channels). */
  unetInput(scaled: Float32Array, batch: number): Float32Array;
  /** The latents after step i, blended with the noised image outside the mask (4-channel inpainting). */
  blend(i: number, latents: Float32Array): Float32Array;
  /**
   * What the GPU loop needs for the blend (4-channel inpainting; null: blend is the identity): the run's
   * constants, uploaded once, and add_noise's coefficients at the timestep after step i ({1, 0} after
   * the last step: the image latents as they are).
   */
  gpuBlend: { imageLatents: Float32Array; noise: Float32Array; mask: Float32Array; after(i: number): NoiseCoefficients } | null;
}

/** Refuses a UNet that is neither 4- nor 9-channel, and a 9-channel one without an init image. */
export function checkUnetChannels(inChannels: number, hasInit: boolean): void {
  if (inChannels === 9 && !hasInit) throw new InpaintModelError('This is an inpainting model (its UNet takes 9 input channels): give it an image to edit (an init image and a mask).');
  if (inChannels !== 4 && inChannels !== 9) throw new InpaintModelError(`The UNet takes ${inChannels} input channels; the studio runs 4-channel models and 9-channel inpainting models.`);
}

/** `noise`: the run's initial noise (rng.initial), the ε of every add_noise of the run. */
export async function prepareEdit(
  parts: SdxlPipelineParts, init: InitImage, scheduler: Scheduler, noise: Float32Array, size: { width: number; height: number; h: number; w: number }, signal?: AbortSignal,
): Promise<EditRun> {
  const { width, height, h, w } = size;
  if (init.rgba.length !== width * height * 4) throw new EditParamsError(`The init image has ${init.rgba.length / 4} pixels, the run ${width}×${height}.`);
  if (!parts.encodeImages) throw new InpaintModelError('This model was loaded without its VAE encoder, so it cannot start from an image.');
  const channels = parts.unetArch.inChannels;
  checkUnetChannels(channels, true);
  // get_timesteps counts num_inference_steps (PNDM's schedule is one longer) and indexes the schedule with it
  const start = strengthStartIndex(scheduler.inferenceSteps ?? scheduler.timesteps.length, init.strength);
  const image = rgba8ToImage(init.rgba, width, height);
  const pixelMask = init.mask ? binarizeMask(init.mask) : null;
  const latentMask = init.mask ? maskToLatent(init.mask, width, height, width / w) : null;
  const nine = channels === 9;
  // a 9-channel UNet without a mask repaints everything: mask 1, masked image all 0 (gray)
  const toEncode = nine ? [image, { data: maskedImage(image.data, pixelMask ?? new Float32Array(width * height).fill(1)), shape: image.shape }] : [image];
  const means = await parts.encodeImages(toEncode, signal);
  const imageLatents = means[0]!.map((v) => v * parts.vaeScalingFactor);
  const n = 4 * h * w;
  if (imageLatents.length !== n) throw new RangeError(`the VAE gave ${imageLatents.length} latents, expected ${n} (4×${h}×${w})`);
  const maskedLatents = nine ? means[1]!.map((v) => v * parts.vaeScalingFactor) : null;
  const unetMask = latentMask ?? new Float32Array(h * w).fill(1);
  return {
    start,
    latents: noisedStart(imageLatents, noise, init.strength, scheduler, start),
    channels,
    unetInput: (scaled, batch) => (maskedLatents ? inpaintUnetInput(scaled, unetMask, maskedLatents, batch) : repeatRows(scaled, batch)),
    blend: (i, latents) => {
      if (nine || !latentMask) return latents;
      const next = i + 1 < scheduler.timesteps.length ? addNoiseCoefficients(scheduler, i + 1) : null;
      return inpaintBlend(latents, imageLatents, noise, latentMask, next);
    },
    gpuBlend:
      nine || !latentMask
        ? null
        : { imageLatents, noise, mask: latentMask, after: (i) => (i + 1 < scheduler.timesteps.length ? addNoiseCoefficients(scheduler, i + 1) : { signal: 1, noise: 0 }) },
  };
}

/** The plain UNet input: the scaled latents once per batch row. */
export function repeatRows(x: Float32Array, batch: number): Float32Array {
  const out = new Float32Array(batch * x.length);
  for (let b = 0; b < batch; b++) out.set(x, b * x.length);
  return out;
}
