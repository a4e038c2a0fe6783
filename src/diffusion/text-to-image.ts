/**
 * Text to image with SDXL, the loop of diffusers 0.25.1 StableDiffusionXLPipeline.__call__:
 * encode prompt and negative prompt → x_T = noise · init_noise_sigma → for each timestep: scale the
 * model input, run the UNet on [uncond, cond], classifier-free guidance, scheduler step → VAE decode.
 *
 * Which loop runs a step: the GPU loop (gpu-sampling.ts; the latents stay on the GPU, CFG, guidance
 * rescale, the scheduler step, the inpaint blend, the next UNet input and the preview in one or two
 * dispatches, no read but the preview's, which does not block) runs every linear sampler (Euler, Euler a,
 * DDIM, DPM++ 2M ± Karras), text to image, image to image, masked 4-channel inpainting and 9-channel
 * inpainting UNets alike, and the plugged-in predictors that bring a GPU form (GpuGuidedPredictor):
 * low-memory CFG (sequential-cfg.ts) and CIDM's regional synthesis (src/cidm/regional/regional-step.ts).
 * The host loop (host-sampling.ts; the UNet output read back every step) runs what is not on the GPU
 * yet: a predictor without a GPU form (EWA concepts, src/engine/engine-ewa.ts); tests force it
 * with `hostLoop` as the GPU loop's reference. A cancel stops between UNet blocks and between steps
 * either way.
 */
import type { GpuContext } from '../gpu/context';
import type { DType, Tensor } from '../gpu/tensor';
import { concat } from '../ops/concat';
import { scale } from '../ops/elementwise';
import { sampleOnGpu } from './gpu-sampling';
import { isLinearStepper } from './schedulers/linear-step';
import type { UNetArch } from '../model/unet/arch';
import type { UNetBackend } from '../model/unet/backend';
import { sigmaAlphasCumprod } from './schedulers/common';
import { predictionTypeOf } from './schedulers/prediction';
import { samplingSchedulerConfig, type SamplingOptions } from './sampling-options';
import { createScheduler, type SchedulerConfig, type SchedulerKind } from './schedulers';
import { runNoise, type NoiseSource } from './noise-source';
import { latentSize, sdxlTimeIds, usesGuidance, type MicroConditioning } from './sdxl-conditioning';
import { type LatentRgbFit, type PreviewImage } from './latent-preview';
import { sequentialCfg } from './sequential-cfg';
import type { PromptEncoding, PromptMode } from '../model/text-encoder/long-prompt';
import { promptEncoder } from './prompt-encoder';
import type { HostTensor } from '../model/vae/image';
import { checkUnetChannels, InpaintModelError, prepareEdit, type EditRun, type InitImage } from './image-to-image';
import { sampleOnHost } from './host-sampling';

/** What the text encoders give for one prompt: [1, 77, C] hidden states ([1, 77·k, C] in chunked mode) and [1, P] pooled embeds. */
export interface PromptEmbedding {
  embeds: Tensor;
  pooled: Tensor;
}

/** The loaded model as the loop needs it; src/engine builds it from the stored weights. */
export interface SdxlPipelineParts {
  readonly ctx: GpuContext;
  readonly dtype: DType;
  readonly unetArch: UNetArch;
  readonly unet: UNetBackend<Tensor>;
  readonly schedulerConfig: SchedulerConfig;
  /** model_index.json force_zeros_for_empty_prompt: an empty negative prompt is all zeros. */
  readonly forceZerosForEmptyPrompt: boolean;
  /** The latent → RGB fit of the model's VAE for step previews (latent-preview.ts; absent: SDXL's). */
  readonly previewFit?: LatentRgbFit;
  /** VAE scaling_factor (0.13025 for SDXL). */
  readonly vaeScalingFactor: number;
  /** Image pixels per latent pixel, 2^(VAE levels − 1) from the VAE's config (8 for SD/SDXL, 4 for a three-level VAE). */
  readonly latentFactor: number;
  /** The VAE's own dtype: f32 when its config says force_upcast (SDXL's VAE overflows f16). */
  readonly vaeDtype: DType;
  /** Without options: diffusers' truncate-to-77 encoding. */
  encodePrompt(prompt: string, o?: PromptEncoding): Promise<PromptEmbedding>;
  /** Chunks the prompt needs in chunked mode (absent: the parts cannot chunk). */
  promptChunks?(prompt: string, o: PromptEncoding): number;
  /** VAE decode of unscaled latents [1, C, h, w] (C = the VAE's latent channels) → image [1, 3, f·h, f·w] (f = latentFactor), unclamped (≈[-1, 1]). */
  decode(latents: Tensor, signal?: AbortSignal, o?: { lowMemory?: boolean }): Promise<Tensor>;
  /** decode() read back to the host with one read (a tiled decode's blended image is not uploaded and read again); optional. */
  decodeToHost?(latents: Tensor, signal?: AbortSignal, o?: { lowMemory?: boolean }): Promise<HostTensor>;
  /** VAE encode of images [1, 3, H, W] in [-1, 1] → posterior means (unscaled latents); absent: no image to image. */
  encodeImages?(images: HostTensor[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** With the sampling options (sampling-options.ts): guidance rescale, zero terminal SNR, DPM++ final sigma. */
export interface TextToImageParams extends SamplingOptions {
  prompt: string;
  negativePrompt?: string;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerKind;
  seed: number;
  micro?: MicroConditioning;
  /** x_T before the init_noise_sigma scaling (tests give the reference's); default: seeded noise. */
  initLatents?: Float32Array;
  /** An ancestral sampler's noise for every step taken, [steps × latent] (goldens give the reference's); default: the noise source's. */
  stepNoise?: Float32Array;
  /** Low-memory mode: the two CFG passes run one after another at batch 1 (sequential-cfg.ts). */
  lowMemory?: boolean;
  /** 'truncate' (default, diffusers: 77 tokens) or 'chunked' (A1111: 75-token chunks, prompt-encoder.ts). */
  promptMode?: PromptMode;
  /** A1111's (word:1.2) emphasis in chunked mode. */
  emphasis?: boolean;
  /** 'studio' (default: rng.ts) or 'torch-cpu' (torch's CPU generator, as ComfyUI and A1111 "RNG: CPU"; noise-source.ts). */
  noiseSource?: NoiseSource;
  /** Image to image / inpainting (image-to-image.ts): the init image at the run's size, its strength and mask. */
  init?: InitImage;
}

/**
 * A noise predictor that replaces the plain [uncond, cond] UNet call and its CFG: CIDM's regional
 * synthesis (spec §4, src/cidm/regional/regional-step.ts) plugs in here. The loop only knows this
 * interface (src/diffusion sits above src/cidm in DESIGN.md's layers; the engine joins them).
 */
export interface GuidedPredictor {
  /** Passes per step (for the time ids). */
  readonly batch: number;
  /**
   * The raw UNet predictions of every pass, for the scaled model input at timestep t. `signal` reaches
   * every UNet forward, so a cancel stops between UNet blocks here too (forward.ts), not only between steps.
   */
  predict(unet: UNetBackend<Tensor>, arch: UNetArch, input: Float32Array, t: number, timeIds: readonly number[], signal?: AbortSignal): Promise<Float32Array>;
  /** The guided noise estimate the scheduler steps with. */
  combine(pred: Float32Array): Float32Array;
  /** The same predictor with its predictions left on the GPU (the GPU loop's form); absent: the run takes the host loop. */
  readonly onGpu?: GpuGuidedPredictor;
  release(): void;
}

/**
 * A GuidedPredictor's GPU form (gpu-sampling.ts): no readback inside a step. It must give what the
 * host form gives (predict + combine), within f32 rounding.
 */
export interface GpuGuidedPredictor {
  /**
   * The raw UNet predictions of every pass [batch, C, h, w] (the UNet's dtype; the caller releases
   * them) for the scaled model input `sample` [1, C, h, w] at timestep t. `signal` reaches every UNet
   * forward; on an error or cancel everything it made is released.
   */
  predict(unet: UNetBackend<Tensor>, arch: UNetArch, sample: Tensor, t: number, timeIds: readonly number[], signal?: AbortSignal): Promise<Tensor>;
  /**
   * Writes the guided estimate (f32 [C, h, w]) into `guided`. Absent: the predictions are one sample's
   * [uncond, cond] and the loop's own CFG and guidance rescale apply (low-memory CFG).
   */
  combine?(pred: Tensor, guided: Tensor): Promise<void>;
}

export interface GuidedPredictorFactory {
  /** True when the predictor needs the unconditional embeddings even at CFG ≤ 1. */
  readonly needsUncond: boolean;
  /** Built once per run from the global [uncond, cond] conditioning (which the loop owns and releases). */
  create(parts: SdxlPipelineParts, global: { ehs: Tensor; pooled: Tensor }): Promise<GuidedPredictor>;
}

export type SamplingProgress =
  | { status: 'encode' }
  | { status: 'step'; step: number; steps: number; preview: PreviewImage | null }
  | { status: 'decode' };

/** What a step computed, for the golden comparison (only produced when an observer asks). */
export interface StepRecord {
  step: number;
  timestep: number;
  /** The UNet input [B, C, h, w] (B = 2 with guidance; C the UNet's in_channels). */
  modelInput: Float32Array;
  noisePred: Float32Array;
  guided: Float32Array;
  latentsAfter: Float32Array;
}

/** The UNet's conditioning for the whole run (for the golden comparison). */
export interface ConditioningRecord {
  encoderHiddenStates: Float32Array;
  textEmbeds: Float32Array;
  timeIds: number[];
  timesteps: number[];
  initNoiseSigma: number;
}

export interface TextToImageHooks {
  signal?: AbortSignal;
  onProgress?(p: SamplingProgress): void;
  /** Build a latent preview every `previewEvery` steps (default 1; 0 turns previews off). */
  previewEvery?: number;
  /** Runs the host loop even where the GPU loop could (the reference of gpu-sampling.gpu.test.ts). */
  hostLoop?: boolean;
  /** Replaces the plain UNet call + CFG (regional synthesis); absent: the plain loop. */
  predictor?: GuidedPredictorFactory;
  observer?: {
    conditioning?(c: ConditioningRecord): void;
    step?(r: StepRecord): void;
    decoded?(raw: Float32Array): void;
  };
}

export interface TextToImageResult {
  width: number;
  height: number;
  /** [3, H, W] in [0, 1] (diffusers: (decode/2 + 0.5).clamp(0, 1)). */
  image: Float32Array;
  latents: Float32Array;
  seed: number;
}

async function conditioning(parts: SdxlPipelineParts, p: TextToImageParams, guided: boolean): Promise<{ ehs: Tensor; pooled: Tensor }> {
  const encode = promptEncoder(parts, p, guided);
  const cond = await encode(p.prompt);
  if (!guided) return { ehs: cond.embeds, pooled: cond.pooled };
  const neg = p.negativePrompt ?? '';
  let uncond: PromptEmbedding;
  if (neg === '' && parts.forceZerosForEmptyPrompt) {
    // diffusers zeroes the negative embeddings when no negative prompt is given (force_zeros_for_empty_prompt)
    const z = (t: Tensor, label: string) => parts.ctx.upload(new Float32Array(t.shape.reduce((a, b) => a * b, 1)), t.shape, t.dtype, label);
    uncond = { embeds: z(cond.embeds, 'zero-negative-embeds'), pooled: z(cond.pooled, 'zero-negative-pooled') };
  } else {
    uncond = await encode(neg);
  }
  const ehs = await concat(parts.ctx, [uncond.embeds, cond.embeds], 0);
  const pooled = await concat(parts.ctx, [uncond.pooled, cond.pooled], 0);
  parts.ctx.release(uncond.embeds, uncond.pooled, cond.embeds, cond.pooled);
  return { ehs, pooled };
}

/** ᾱ at a (possibly fractional, Karras) timestep, linear in t between the table's entries. */
function alphaBarAt(table: Float64Array, t: number): number {
  const lo = Math.max(0, Math.min(table.length - 1, Math.floor(t)));
  const hi = Math.min(table.length - 1, lo + 1);
  const f = t - lo;
  return table[lo]! * (1 - f) + table[hi]! * f;
}

export async function textToImage(parts: SdxlPipelineParts, p: TextToImageParams, hooks: TextToImageHooks = {}): Promise<TextToImageResult> {
  const { ctx } = parts;
  const { h, w } = latentSize(p.height, p.width, parts.latentFactor);
  // the latent channels are the UNet's output channels (its config; 4 for every model the import accepts)
  const lc = parts.unetArch.outChannels;
  const n = lc * h * w;
  const signal = hooks.signal;
  signal?.throwIfAborted();
  const guided = usesGuidance(p.guidanceScale);
  const schedulerConfig = samplingSchedulerConfig(parts.schedulerConfig, p);
  const scheduler = createScheduler(p.scheduler, schedulerConfig, p.steps);
  // the preview's x̂₀: the run's ᾱ table (2^-24, not 0, at the end under zero SNR) and prediction type
  const abar = sigmaAlphasCumprod(schedulerConfig);
  const prediction = predictionTypeOf(schedulerConfig);
  const previewEvery = hooks.previewEvery ?? 1;

  hooks.onProgress?.({ status: 'encode' });
  const factory = hooks.predictor ?? (p.lowMemory && guided ? sequentialCfg(p.guidanceScale, [h, w], p.guidanceRescale) : undefined);
  // regional synthesis always needs the uncond pass (Eq. 4), whatever the CFG scale
  const { ehs, pooled } = await conditioning(parts, p, guided || (factory?.needsUncond ?? false));
  let regional: GuidedPredictor | null = null;
  let latents: Float32Array;
  let latentsGpu: Tensor | null = null;
  try {
    // a plugged-in predictor (regional synthesis) brings its own UNet batch and guidance
    if (factory) regional = await factory.create(parts, { ehs, pooled });
    const batch = regional?.batch ?? (guided ? 2 : 1);
    const timeIds = Array.from({ length: batch }, () => sdxlTimeIds(p.height, p.width, p.micro)).flat();
    if (hooks.observer?.conditioning) {
      hooks.observer.conditioning({
        encoderHiddenStates: await ctx.read(ehs),
        textEmbeds: await ctx.read(pooled),
        timeIds,
        timesteps: [...scheduler.timesteps],
        initNoiseSigma: scheduler.initNoiseSigma,
      });
    }
    const rng = runNoise(p.noiseSource ?? 'studio', p.seed);
    const x0 = p.initLatents ?? rng.initial(n);
    if (x0.length !== n) throw new RangeError(`initial latents have ${x0.length} values, expected ${n} (4×${h}×${w})`);
    checkUnetChannels(parts.unetArch.inChannels ?? 4, p.init !== undefined);
    // image to image: x0 is the ε of add_noise, the run starts at the strength's index (img2img.ts)
    const edit: EditRun | null = p.init ? await prepareEdit(parts, p.init, scheduler, x0, { width: p.width, height: p.height, h, w }, signal) : null;
    if (edit && regional && edit.channels !== 4) throw new InpaintModelError('A 9-channel inpainting model runs without regions, concepts or low-memory mode.');
    const start = edit?.start ?? 0;
    const startLatents = edit ? edit.latents : x0.map((v) => v * scheduler.initNoiseSigma);
    hooks.onProgress?.({ status: 'step', step: 0, steps: scheduler.timesteps.length - start, preview: null });
    // ancestral noise counts the steps this run took (a torch generator draws them in order)
    const noiseOf = (k: number) => (p.stepNoise ? p.stepNoise.subarray(k * n, (k + 1) * n) : rng.step(k, n));
    // the GPU loop (gpu-sampling.ts) runs every linear sampler, with edits, inpainting, guidance
    // rescale, low-memory CFG and regional predictors; the host loop (host-sampling.ts) what is not on
    // the GPU yet: predictors without a GPU form (EWA concepts)
    const common = {
      parts,
      latentShape: [lc, h, w] as const,
      latents: startLatents,
      start,
      ehs,
      pooled,
      timeIds,
      ...(p.scheduler === 'euler_ancestral' ? { stepNoise: noiseOf } : {}),
      alphaBarAt: (t: number) => alphaBarAt(abar, t),
      prediction,
      previewEvery,
      signal,
      onStep: (step: number, steps: number, preview: PreviewImage | null) => hooks.onProgress?.({ status: 'step', step, steps, preview }),
      ...(hooks.observer?.step ? { observeStep: hooks.observer.step } : {}),
    };
    // a predictor without a GPU form (EWA concepts, engine-ewa.ts) still returns host arrays
    const onGpu = regional ? (regional.onGpu ?? null) : null;
    const hostOnly = hooks.hostLoop === true || (regional !== null && onGpu === null);
    if (!hostOnly && isLinearStepper(scheduler)) {
      // a combining predictor (regional synthesis) replaces CFG and rescale, as on the host loop
      const ownGuidance = onGpu?.combine !== undefined;
      latentsGpu = await sampleOnGpu({
        ...common,
        scheduler,
        guidance: guided && !ownGuidance ? p.guidanceScale : null,
        guidanceRescale: ownGuidance ? 0 : (p.guidanceRescale ?? 0),
        edit,
        predictor: onGpu,
      });
      latents = await ctx.read(latentsGpu);
    } else {
      const guidance = guided ? { scale: p.guidanceScale, rescale: p.guidanceRescale ?? 0 } : null;
      latents = await sampleOnHost({ ...common, scheduler, guidance, batch, edit, predictor: regional });
    }
  } finally {
    regional?.release();
    ctx.release(ehs, pooled);
  }

  signal?.throwIfAborted();
  hooks.onProgress?.({ status: 'decode' });
  // latents / scaling_factor on the GPU when the loop left them there
  const z = latentsGpu
    ? await scale(ctx, latentsGpu, 1 / parts.vaeScalingFactor, { dtype: parts.vaeDtype, label: 'vae-latents' }).finally(() => ctx.release(latentsGpu!))
    : ctx.upload(latents.map((v) => v / parts.vaeScalingFactor), [1, lc, h, w], parts.vaeDtype, 'vae-latents');
  let raw: Float32Array;
  try {
    // the VAE output is read once: a tiled decode blends on the host and hands its host image over
    if (parts.decodeToHost) raw = (await parts.decodeToHost(z, signal, { lowMemory: p.lowMemory })).data;
    else {
      const decoded = await parts.decode(z, signal, { lowMemory: p.lowMemory });
      raw = await ctx.read(decoded);
      ctx.release(decoded);
    }
  } finally {
    if (ctx.isLive(z)) ctx.release(z);
  }
  hooks.observer?.decoded?.(raw);
  const image = raw.map((v) => Math.min(1, Math.max(0, v / 2 + 0.5)));
  return { width: p.width, height: p.height, image, latents, seed: p.seed };
}
