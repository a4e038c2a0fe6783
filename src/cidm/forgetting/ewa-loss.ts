/**
 * The forgetting proxy of one concept (spec §5; the paper's forgetting analysis): the mean ε-MSE of the
 * model on the concept's own photos, captioned with its own words, through elastic weight aggregation
 * (spec §3) over a library — masked where the photo has a mask, as the concept was trained (spec §1.6).
 *
 * The (timestep, noise) draws are a function of (seed, photo, draw) alone, never of the library, so every
 * cell of a forgetting matrix sees the same draws and two cells differ only by the library. The noise is
 * plain N(0, I): the training noise offset (0.01) is a training-time regulariser, not part of the proxy.
 *
 * Shared by the forgetting experiment (experiment.ts) and the engine's forgetting job
 * (src/engine/forgetting-job.ts), so the dashboard and the experiment measure the same number.
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { NoiseStream } from '../../diffusion/rng';
import { GpuUNetBackend } from '../../model/unet/gpu-backend';
import { unetForward } from '../../model/unet/forward';
import type { EwaLibrary, EwaOptions } from '../ewa/ewa';
import { layerContexts } from '../ewa/encode';
import type { CidmModel } from '../train/cidm-step';
import { epsMse, maskedEpsMse, prepareLossMask } from '../train/diffusion-loss';
import { DdpmNoiser, type NoiseScheduleConfig } from '../train/noising';

/** One photo of a probe: latents [C, h, w] (scaled), its loss mask [h, w] at latent size or none. */
export interface ProbeExample {
  latents: Float32Array;
  mask?: Float32Array;
  /** SDXL micro-conditioning (orig_h, orig_w, crop_top, crop_left, target_h, target_w). */
  timeIds?: readonly number[];
}

/** What the loss of one concept is measured on. */
export interface LossProbe {
  /** Its caption (its placeholder words in it): the prompt EWA weighs the library with. */
  prompt: string;
  examples: readonly ProbeExample[];
}

export interface ProbeLossOptions {
  /** (timestep, noise) draws per photo. */
  draws: number;
  seed: number;
  /** EWA options of the fold (form, s_lora); the library's own by default. */
  ewa?: EwaOptions;
  signal?: AbortSignal;
}

/** Streams of the probe draws: far from training's (0x40000000 + step) and sampling's (0, 1 + step). */
const PROBE_STREAM_BASE = 0x70000000;

/** Draw `draw` of photo `photo`: ε ~ N(0, I) of `length` values and t ~ U{0..T−1}. */
export function probeDraw(seed: number, photo: number, draw: number, length: number, numTrainTimesteps: number): { noise: Float32Array; timestep: number } {
  if (!Number.isInteger(draw) || draw < 0 || draw >= 1000) throw new RangeError(`probe draw ${draw} must be a whole number in 0..999`);
  const rng = new NoiseStream(seed, PROBE_STREAM_BASE + photo * 1000 + draw);
  const noise = rng.normals(length);
  return { noise, timestep: Math.floor((rng.nextUint32() * numTrainTimesteps) / 4294967296) };
}

/** Mean ε-MSE of the probe through EWA over `lib` (forward only): one fold for the probe's prompt. */
export async function ewaProbeLoss(ctx: GpuContext, m: CidmModel, lib: EwaLibrary, probe: LossProbe, schedule: NoiseScheduleConfig, o: ProbeLossOptions): Promise<number> {
  if (!probe.examples.length) throw new RangeError('a forgetting probe needs at least one photo');
  if (!Number.isInteger(o.draws) || o.draws < 1) throw new RangeError(`draws per photo must be a positive whole number, got ${o.draws}`);
  const prepared = await lib.prepare(probe.prompt, o.ewa);
  let contexts: Awaited<ReturnType<typeof layerContexts>> | null = null;
  try {
    contexts = await layerContexts(ctx, prepared.prompt.states, lib.layers);
    const be = new GpuUNetBackend(ctx, prepared.folded.weights, m.dtype);
    const noiser = new DdpmNoiser(schedule);
    const C = m.unet.arch.inChannels;
    let sum = 0;
    let count = 0;
    for (const [p, ex] of probe.examples.entries()) {
      const n = Math.round(Math.sqrt(ex.latents.length / C));
      if (C * n * n !== ex.latents.length) throw new RangeError(`probe photo ${p + 1} has ${ex.latents.length} latent values, not ${C}×h×w with h = w`);
      if (ex.mask && ex.mask.length !== n * n) throw new RangeError(`the mask of probe photo ${p + 1} has ${ex.mask.length} values, not ${n}×${n}`);
      const shape = [1, C, n, n];
      const mask = ex.mask ? prepareLossMask(ctx, ex.mask, [1, 1, n, n]) : null;
      try {
        for (let d = 0; d < o.draws; d++) {
          o.signal?.throwIfAborted();
          const { noise, timestep } = probeDraw(o.seed, p, d, ex.latents.length, noiser.numTrainTimesteps);
          const noisy = ctx.upload(noiser.addNoise(ex.latents, noise, 1, [timestep]), shape, m.dtype, 'forgetting noisy');
          const target = ctx.upload(noise, shape, m.dtype, 'forgetting target');
          const pred: Tensor = await unetForward(be, m.unet.arch, {
            sample: noisy,
            timesteps: [timestep],
            encoderHiddenStates: contexts.contexts[0]!,
            layerContexts: contexts.contexts,
            ...(prepared.prompt.pooled ? { textEmbeds: prepared.prompt.pooled, timeIds: ex.timeIds } : {}),
          });
          const r = mask ? await maskedEpsMse(ctx, pred, target, mask) : await epsMse(ctx, pred, target);
          sum += (await ctx.read(r.loss))[0]!;
          count++;
          ctx.release(r.loss, r.grad, pred, noisy, target);
        }
      } finally {
        if (mask) ctx.release(mask.tensor);
      }
    }
    return sum / count;
  } finally {
    contexts?.release();
    prepared.release();
  }
}
