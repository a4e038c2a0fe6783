/**
 * The sampling loop with the latents on the GPU (issue 15, point 1; DESIGN "No CPU round trip inside a
 * sampling step"). Per step: the UNet forward on the sample buffer, then one sampler_step dispatch
 * (src/ops/sampler-step.ts) does CFG, the scheduler's linear update (schedulers/linear-step.ts), the next
 * UNet input and the latent preview. Nothing is read back but the preview, and that read is not awaited
 * before the next step is recorded: its progress event fires when the bytes arrive, in step order.
 *
 * Edits and options on this loop too: image to image starts from the noised image latents at the
 * strength's index; masked 4-channel inpainting blends the noised image back outside the mask inside the
 * same dispatch (image latents, ε and mask uploaded once per run, add_noise's coefficients per step as
 * uniforms); a 9-channel inpainting UNet's sample rows get their mask and masked-image channels once, the
 * step rewrites only the latent channels; guidance rescale is one extra single-workgroup dispatch
 * (ops/cfg-rescale.ts: the two stds and the rescaled guided prediction) that the step then reads.
 * A plugged-in predictor with a GPU form (GpuGuidedPredictor, text-to-image.ts) runs here as well, on a
 * one-row sample: low-memory CFG (sequential-cfg.ts: two batch-1 forwards write one [2, C, h, w] buffer,
 * then this loop's CFG / rescale and step as usual) and CIDM's regional synthesis (regional-step.ts: its
 * forwards on the input repeated on the GPU, E* by ops/regional-noise-aggregation.ts, which the step
 * reads like a rescaled prediction). All five samplers step here, PNDM too (its PLMS history lives in
 * the step's history slots, schedulers/pndm.ts linearStep). Not here (host-sampling.ts): predictors
 * without a GPU form (EWA concepts, engine-ewa.ts).
 *
 * Ancestral noise comes from the run's noise source on the host (noise-source.ts: bit-exact studio or
 * torch streams) and goes up with writeBuffer, never down. The loop keeps at most one step queued ahead
 * of the GPU (it awaits step i−1's completion, not a read, after recording step i), so a cancel between
 * steps leaves at most one step of queued work; inside the UNet forward each block is its own
 * submission with two in flight (forward.ts, settle). Every attn2's K/V are projected on the first step
 * and reused after (cross-attention-kv-cache.ts); the run releases them when it ends, however it ends.
 * An observer (golden comparisons) makes the loop read every step's tensors.
 */
import type { GpuContext } from '../gpu/context';
import { numel, type Tensor } from '../gpu/tensor';
import { unetForward } from '../model/unet/forward';
import { CrossAttentionKvCache } from '../model/unet/cross-attention-kv-cache';
import { samplerStep, type SamplerStepCoefficients } from '../ops/sampler-step';
import type { Scheduler } from './schedulers';
import type { LinearStepper } from './schedulers/linear-step';
import { HIST_SLOTS, vpX0Form } from './schedulers/linear-step';
import type { PredictionType } from './schedulers/prediction';
import { latentRgbFitFor, type PreviewImage } from './latent-preview';
import { repeatRows, type EditRun } from './image-to-image';
import { cfgRescale } from '../ops/cfg-rescale';
import type { GpuGuidedPredictor, SdxlPipelineParts, StepRecord } from './text-to-image';

export interface GpuLoopRun {
  parts: SdxlPipelineParts;
  scheduler: Scheduler & LinearStepper;
  /** CFG scale, or null without guidance (batch 1) or when the predictor combines its passes itself. */
  guidance: number | null;
  /**
   * A plugged-in predictor's GPU form (low-memory CFG, regional synthesis): it runs the UNet passes on
   * the one-row model input; its `combine`, if any, writes the guided estimate the step then reads.
   */
  predictor?: GpuGuidedPredictor | null;
  /** Guidance rescale φ after CFG (guidance-rescale.ts; 0 or absent: off). */
  guidanceRescale?: number;
  /** Image to image / inpainting (image-to-image.ts): the UNet input rows and the inpaint blend. */
  edit?: EditRun | null;
  latentShape: readonly [number, number, number];
  /** Latents at `start` (host, already at the scheduler's scale). */
  latents: Float32Array;
  start: number;
  ehs: Tensor;
  pooled: Tensor;
  timeIds: number[];
  /** Ancestral noise of the k-th step taken (absent: a deterministic sampler). */
  stepNoise?: (k: number) => Float32Array;
  /** ᾱ at a timestep and the prediction type, for the preview's x̂₀ (as the host loop computes it). */
  alphaBarAt(t: number): number;
  prediction: PredictionType;
  previewEvery: number;
  signal?: AbortSignal;
  onStep?(step: number, steps: number, preview: PreviewImage | null): void;
  observeStep?(r: StepRecord): void;
}

/** The scale scale_model_input applies at step i (1 for DDIM/DPM++; 1/√(σ²+1) for Euler), from the scheduler itself. */
function inputScale(s: Scheduler, i: number): number {
  return s.scaleModelInput(Float32Array.of(1), i)[0]!;
}

function concatArrays(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((k, p) => k + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Runs the steps; returns the final latents [1, C, h, w] (f32, on the GPU; the caller releases them). */
export async function sampleOnGpu(run: GpuLoopRun): Promise<Tensor> {
  const { parts, scheduler, start, signal } = run;
  const ctx: GpuContext = parts.ctx;
  const [C, h, w] = run.latentShape;
  const n = C * h * w;
  const predictor = run.predictor ?? null;
  // a predictor takes the one-row input and repeats it for its own passes
  const batch = predictor || run.guidance === null ? 1 : 2;
  const combines = predictor?.combine !== undefined;
  const steps = scheduler.timesteps.length;
  const runSteps = steps - start;
  const x = ctx.upload(run.latents, [1, C, h, w], 'f32', 'latents');
  const scratch = {
    // the scheduler's history slots (DPM++ 2M's x̂₀, PNDM's stored outputs and first sample)
    hist: ctx.empty([HIST_SLOTS, C, h, w], 'f32', 'sampler-hist'),
    noise: ctx.empty([C, h, w], 'f32', 'sampler-noise'),
    guided: ctx.empty([C, h, w], 'f32', 'sampler-guided'),
    preview: ctx.empty([h, w], 'f32', 'sampler-preview'),
  };
  const edit = run.edit ?? null;
  const rescale = run.guidance !== null && !combines ? (run.guidanceRescale ?? 0) : 0;
  const firstInput = run.latents.map((v) => v * inputScale(scheduler, start));
  // a 9-channel inpainting UNet's rows carry the mask and the masked image's latents: uploaded here once,
  // the step rewrites only the latent channels of each row
  const sampleChannels = edit?.channels ?? C;
  const sample = ctx.upload(edit ? edit.unetInput(firstInput, batch) : repeatRows(firstInput, batch), [batch, sampleChannels, h, w], parts.dtype, 'unet-sample');
  // the 4-channel inpaint blend's run constants, uploaded once: [image latents | ε | latent mask]
  const blend = edit?.gpuBlend ?? null;
  const editData = blend ? ctx.upload(concatArrays(blend.imageLatents, blend.noise, blend.mask), [2 * n + h * w], 'f32', 'inpaint-blend') : null;
  // the model family's latent → RGB fit (latent-preview.ts), in the kernel's preview
  const fit = parts.previewFit ?? latentRgbFitFor('sdxl');
  const rgb = { rows: fit.matrix, bias: fit.bias };
  let progress = Promise.resolve();
  let prevDone: Promise<void> = Promise.resolve();
  // attn2's K/V are projected on the first step and reused after (the context and weights are the run's)
  const kvCache = new CrossAttentionKvCache<Tensor>((...t) => ctx.release(...t));
  try {
    for (let i = start; i < steps; i++) {
      signal?.throwIfAborted();
      const t = scheduler.timesteps[i]!;
      const k = i - start;
      const wantPreview = C >= 4 && run.previewEvery > 0 && ((i + 1) % run.previewEvery === 0 || i + 1 === steps);
      const out = predictor
        ? await predictor.predict(parts.unet, parts.unetArch, sample, t, run.timeIds.slice(0, 6), signal)
        : await unetForward(parts.unet, parts.unetArch, {
            sample,
            timesteps: new Array<number>(batch).fill(t),
            encoderHiddenStates: run.ehs,
            textEmbeds: run.pooled,
            timeIds: run.timeIds,
            signal,
            crossAttentionKv: kvCache,
          });
      try {
        // the host loop records a predictor's input repeated over its passes
        const passes = numel(out.shape) / n;
        const record = run.observeStep ? { modelInput: predictor ? repeatRows(await ctx.read(sample), passes) : await ctx.read(sample), noisePred: await ctx.read(out) } : null;
        const lin = scheduler.linearStep(i, k);
        if (lin.noise) {
          const z = run.stepNoise?.(k);
          if (!z || z.length !== n) throw new Error(`step ${i}: an ancestral sampler needs ${n} noise values`);
          ctx.write(scratch.noise, z);
        }
        const scaleNow = inputScale(scheduler, i);
        const ab = run.alphaBarAt(t);
        const x0 = vpX0Form(run.prediction, Math.sqrt(ab), Math.sqrt(1 - ab));
        const coefficients: SamplerStepCoefficients = {
          guidance: combines ? null : run.guidance,
          ...lin,
          // the next step's model input; after the last step nothing reads it
          inScale: i + 1 < steps ? inputScale(scheduler, i + 1) : 1,
          ...(wantPreview ? { preview: { x: x0.x * scaleNow, out: x0.out } } : {}),
          ...(blend ? { blend: blend.after(i) } : {}),
        };
        // guidance rescale needs the std of the whole prediction first: its own dispatch writes the guided one
        if (rescale > 0) await cfgRescale(ctx, out, scratch.guided, run.guidance!, rescale);
        // a combining predictor (regional synthesis) writes E* the same way
        if (combines) await predictor!.combine!(out, scratch.guided);
        await samplerStep(ctx, { x, pred: out, sample, ...scratch, ...(editData ? { edit: editData } : {}) }, coefficients, rgb, {
          recordGuided: record !== null,
          preGuided: rescale > 0 || combines,
          sampleChannels,
        });
        if (record) {
          run.observeStep!({ step: i, timestep: t, ...record, guided: await ctx.read(scratch.guided), latentsAfter: await ctx.read(x) });
        }
      } finally {
        ctx.release(out);
      }
      // submitted now; read without blocking the next step; progress events stay in step order
      const pixels = wantPreview ? ctx.read(scratch.preview) : null;
      const done = ctx.submit();
      progress = progress.then(async () => {
        const raw = pixels ? await pixels : null;
        const preview = raw ? { width: w, height: h, rgba: new Uint8ClampedArray(raw.buffer, raw.byteOffset, h * w * 4) } : null;
        run.onStep?.(k + 1, runSteps, preview);
      });
      // a failed preview read surfaces at the final `await progress`, not as an unhandled rejection if the loop stops first
      progress.catch(() => undefined);
      // one step in flight: wait for the previous step's GPU work (not a read) before recording the next
      await prevDone;
      prevDone = done;
      // a device error (out of memory) stops the run at this step, not after the last one
      ctx.throwIfDeviceError(`sampling step ${k + 1}`);
    }
    await prevDone;
    await progress;
    return x;
  } catch (e) {
    ctx.release(x);
    // a pending preview read may fail once the run is abandoned; the run's own error is the one to report
    progress.catch(() => undefined);
    throw e;
  } finally {
    kvCache.release();
    ctx.releaseLive(sample, ...Object.values(scratch), ...(editData ? [editData] : []));
  }
}
