/**
 * A training job's sample previews (issue 11 point 2: "a sample preview every N steps"): an image of
 * the concept as learned so far, sampled through the loaded model's sampling parts with that concept
 * alone as an EWA library (spec §3.2) — what a prompt naming it would give if it were the only concept.
 *
 * The LoRA is applied unfolded (engine-ewa.ts 'adapters' mode: a fused LoRA per attn2 linear) rather
 * than folded: a fold would allocate a second copy of every attn2 weight (~1 GiB for SDXL in f16) next
 * to the trainer's params, moments and activations, for a dozen steps. With one concept EWA's weights
 * are 1 in every layer whenever the prompt relates to its tokens at all, so this is W0 + s·U·D.
 *
 * The preview reads the trainable params (read-back only) and draws its noise from its own seed, so the
 * training run — whose every draw comes from (seed, step) — is the same with or without previews. It
 * allocates from the pool and releases everything, and destroys its library, before training goes on.
 */
import type { GpuContext } from '../gpu/context';
import { latentSize } from '../diffusion/sdxl-conditioning';
import { imageToRgba } from '../diffusion/latent-preview';
import type { SchedulerKind } from '../diffusion/schedulers';
import { textToImage, type SdxlPipelineParts } from '../diffusion/text-to-image';
import { EwaLibrary } from '../cidm/ewa/ewa';
import type { Concept } from '../cidm/concepts/concept';
import { isAbort } from './errors';
import { ewaPredictor } from './engine-ewa';
import type { SdxlTrainingParts } from './sdxl-model';
import type { RgbaImage, TrainJobSpec } from './protocol';

/**
 * The preview's sampler: DPM++ 2M with Karras sigmas converges in the fewest steps of the loop's
 * schedulers (12 by default; CIDM samples with DPM-Solver++ 2M), and CFG 7.5, CIDM's sampling scale (spec §5.2, §9.2).
 */
export const PREVIEW_DEFAULTS: { steps: number; guidanceScale: number; scheduler: SchedulerKind } = { steps: 12, guidanceScale: 7.5, scheduler: 'dpmpp_2m_karras' };

/** "a photo of <p1> … <pP> {class}" unless the job gives its own preview prompt. */
export function previewPromptOf(spec: Pick<TrainJobSpec, 'previewPrompt' | 'placeholders' | 'classWord'>): string {
  return spec.previewPrompt ?? `a photo of ${spec.placeholders.join(' ')} ${spec.classWord.trim()}`;
}

/**
 * How many previews fall on steps after..upTo (after < k ≤ upTo) of a `steps`-step run with a preview
 * every `every` steps (0: none) and one at the last step.
 */
export function previewsDue(after: number, upTo: number, every: number, steps = upTo): number {
  if (!every || upTo <= after) return 0;
  const multiples = Math.floor(upTo / every) - Math.floor(after / every);
  const last = after < steps && steps <= upTo && steps % every !== 0 ? 1 : 0;
  return multiples + last;
}

export interface TrainPreviewSpec {
  prompt: string;
  /** Side of the square image in pixels (the training resolution). */
  resolution: number;
  steps: number;
  seed: number;
}

/**
 * One preview image of `concept` (the job's params read back), or null when the job was cancelled
 * while it sampled (the caller then pauses as usual).
 */
export async function trainPreview(
  ctx: GpuContext, sampling: SdxlPipelineParts, training: SdxlTrainingParts, concept: Concept, p: TrainPreviewSpec, signal?: AbortSignal,
): Promise<RgbaImage | null> {
  if (signal?.aborted) return null;
  const lib = await EwaLibrary.create(ctx, training.model, training.tokenizers, [concept]);
  try {
    const { h, w } = latentSize(p.resolution, p.resolution);
    const { guidanceScale, scheduler } = PREVIEW_DEFAULTS;
    const r = await textToImage(
      sampling,
      { prompt: p.prompt, negativePrompt: '', width: p.resolution, height: p.resolution, steps: p.steps, guidanceScale, scheduler, seed: p.seed },
      {
        ...(signal ? { signal } : {}),
        previewEvery: 0,
        predictor: ewaPredictor(lib, { prompt: p.prompt, guidanceScale, latent: [h, w], mode: 'adapters' }),
      },
    );
    const img = imageToRgba(r.image, r.height, r.width);
    return { width: img.width, height: img.height, rgba: new Uint8ClampedArray(img.rgba) };
  } catch (err) {
    if (isAbort(err) && signal?.aborted) return null;
    throw err;
  } finally {
    lib.destroy();
  }
}
