/**
 * The sampling loop with the latents on the host: every step uploads the UNet input and reads the UNet
 * output back, then CFG, guidance rescale, the scheduler step and the inpaint blend run in plain TS.
 * It is the reference of the GPU loop (gpu-sampling.ts; `hostLoop: true` forces it in tests) and runs
 * what is not on the GPU yet: a plugged-in GuidedPredictor without a GPU form (EWA concepts, src/engine/engine-ewa.ts). Regional
 * synthesis and low-memory CFG run on the GPU loop unless `hostLoop` is set (their host forms are kept
 * as its reference).
 * A cancel stops between UNet blocks (forward.ts) and between steps.
 */
import type { Tensor } from '../gpu/tensor';
import { unetForward } from '../model/unet/forward';
import { CrossAttentionKvCache } from '../model/unet/cross-attention-kv-cache';
import type { Scheduler } from './schedulers';
import { vpX0, type PredictionType } from './schedulers/prediction';
import { classifierFreeGuidance } from './sdxl-conditioning';
import { latentPreview, type PreviewImage } from './latent-preview';
import { repeatRows, type EditRun } from './image-to-image';
import type { GuidedPredictor, SdxlPipelineParts, StepRecord } from './text-to-image';

export interface HostLoopRun {
  parts: SdxlPipelineParts;
  scheduler: Scheduler;
  /** CFG scale and guidance rescale φ, or null without guidance (batch 1). */
  guidance: { scale: number; rescale: number } | null;
  latentShape: readonly [number, number, number];
  /** Latents at `start` (already at the scheduler's scale). */
  latents: Float32Array;
  start: number;
  /** UNet passes per step (2 with CFG; a predictor's own batch). */
  batch: number;
  ehs: Tensor;
  pooled: Tensor;
  timeIds: number[];
  /** Image to image / inpainting: the UNet input rows and the blend after each step (image-to-image.ts). */
  edit: EditRun | null;
  /** Replaces the UNet call and CFG (regional synthesis, low-memory CFG). */
  predictor: GuidedPredictor | null;
  /** Ancestral noise of the k-th step taken (absent: a deterministic sampler). */
  stepNoise?: (k: number) => Float32Array;
  alphaBarAt(t: number): number;
  prediction: PredictionType;
  previewEvery: number;
  signal?: AbortSignal;
  onStep?(step: number, steps: number, preview: PreviewImage | null): void;
  observeStep?(r: StepRecord): void;
}

/** Runs the steps; returns the final latents [C·h·w]. */
export async function sampleOnHost(run: HostLoopRun): Promise<Float32Array> {
  // the plain passes' attn2 K/V, projected on the first step (cross-attention-kv-cache.ts); a predictor keeps its own
  const kvCache = new CrossAttentionKvCache<Tensor>((...t) => run.parts.ctx.release(...t));
  try {
    return await hostSteps(run, kvCache);
  } finally {
    kvCache.release();
  }
}

async function hostSteps(run: HostLoopRun, kvCache: CrossAttentionKvCache<Tensor>): Promise<Float32Array> {
  const { parts, scheduler, start, signal, edit, predictor, batch } = run;
  const { ctx } = parts;
  const [lc, h, w] = run.latentShape;
  const runSteps = scheduler.timesteps.length - start;
  let latents = run.latents;
  for (let i = start; i < scheduler.timesteps.length; i++) {
    signal?.throwIfAborted();
    const t = scheduler.timesteps[i]!;
    const input = scheduler.scaleModelInput(latents, i);
    const modelInput = edit ? edit.unetInput(input, batch) : repeatRows(input, batch);
    let noisePred: Float32Array;
    if (predictor) noisePred = await predictor.predict(parts.unet, parts.unetArch, input, t, run.timeIds.slice(0, 6), signal);
    else {
      const sample = ctx.upload(modelInput, [batch, edit?.channels ?? lc, h, w], parts.dtype, 'unet-sample');
      const out = await unetForward(parts.unet, parts.unetArch, {
        sample,
        timesteps: new Array<number>(batch).fill(t),
        encoderHiddenStates: run.ehs,
        textEmbeds: run.pooled,
        timeIds: run.timeIds,
        // a cancel stops between UNet blocks, not only between steps (forward.ts)
        signal,
        crossAttentionKv: kvCache,
      }).catch((e: unknown) => {
        ctx.release(sample); // a cancel between blocks: the forward gave back its own activations
        throw e;
      });
      noisePred = await ctx.read(out);
      ctx.release(out, sample);
    }
    signal?.throwIfAborted();
    const g = run.guidance;
    const eps = predictor ? predictor.combine(noisePred) : g ? classifierFreeGuidance(noisePred, g.scale, g.rescale) : noisePred;
    const stepped = scheduler.step(eps, i, latents, run.stepNoise?.(i - start));
    const next = edit ? edit.blend(i, stepped) : stepped;
    run.observeStep?.({ step: i, timestep: t, modelInput, noisePred, guided: eps, latentsAfter: next });
    latents = next;
    const wantPreview = run.previewEvery > 0 && ((i + 1) % run.previewEvery === 0 || i + 1 === scheduler.timesteps.length);
    const ab = run.alphaBarAt(t);
    const preview = wantPreview ? latentPreview(vpX0(run.prediction, input, eps, Math.sqrt(ab), Math.sqrt(1 - ab)), h, w, parts.previewFit) : null;
    run.onStep?.(i + 1 - start, runSteps, preview);
  }
  return latents;
}
