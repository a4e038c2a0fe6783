/**
 * Sampling with concepts of the library (spec §3.2, issue 11 point 4): the text-to-image loop's noise
 * predictor for a prompt that names concepts. Once per run (= once per prompt) it encodes the prompt's
 * layer-wise copies, computes EWA's w^l against every concept of the library and folds them into the
 * attn2 weights (EwaLibrary.prepare); every step then runs the UNet on the folded weights with the
 * layer-wise states as layerContexts, so a step costs the same with 1 or 50 concepts.
 *
 * CFG (spec §3.2): the unconditional branch is the negative prompt encoded as usual (the loop's own
 * [uncond, cond] conditioning, whose uncond half is used here; '' is zeros under
 * force_zeros_for_empty_prompt), through the SAME folded weights, and not layer-wise (spec §1.4).
 * Low-memory mode runs the two passes one after another at batch 1, as sequential-cfg.ts does for the
 * plain loop (the plugged-in predictor replaces that one, so it does the same itself).
 *
 * This is a GuidedPredictorFactory, so the loop (src/diffusion, which may not import src/cidm) needed
 * no change: the plain path is untouched. The loop still encodes the prompt plainly for its global
 * conditioning; only its uncond half (and, on a model without a pooled projection, the pooled cond) is
 * read here — one text-encoder pass of waste against the L layer-wise copies EWA encodes anyway.
 *
 * 'adapters' mode applies the same aggregation unfolded (fused LoRA per attn2 linear, fold.ts
 * ewaAdapters): no second copy of the attn2 weights (~1 GiB for SDXL in f16), at a small cost per
 * step — what the training previews use, next to the trainer's own memory.
 *
 * Either way the weights and the states are fixed for the run, so every attn2's K/V are projected on the
 * first step and read from the predictor's cache after (cross-attention-kv-cache.ts), released with it.
 *
 * Its GPU form (`onGpu`, the GPU sampling loop's, issue 15 point 1) runs the same passes on the loop's
 * one-row model input, repeated on the GPU, and gathers their outputs into one [uncond, cond] tensor
 * that the loop's own CFG, guidance rescale and scheduler step read: nothing is read back inside a step.
 */
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { concat } from '../ops/concat';
import { stridedCopy } from '../ops/strided-copy';
import type { UNetArch } from '../model/unet/arch';
import type { UNetBackend } from '../model/unet/backend';
import { unetForward } from '../model/unet/forward';
import { CrossAttentionKvCache } from '../model/unet/cross-attention-kv-cache';
import { GpuUNetBackend } from '../model/unet/gpu-backend';
import { classifierFreeGuidance, usesGuidance } from '../diffusion/sdxl-conditioning';
import { gatherPasses } from '../diffusion/gpu-passes';
import type { GpuGuidedPredictor, GuidedPredictor, GuidedPredictorFactory, SdxlPipelineParts } from '../diffusion/text-to-image';
import { layerContexts, type LayerContexts } from '../cidm/ewa/encode';
import { EwaLibrary } from '../cidm/ewa/ewa';
import { scaleTaskWeights } from '../cidm/ewa/task-scales';
import type { Concept } from '../cidm/concepts/concept';
import type { SdxlTrainingParts } from './sdxl-model';
import { modelConcepts } from './concept-prompt';
import type { EwaForm } from '../cidm/ewa/weights';

export interface EwaRunOptions {
  /** The prompt that names concepts (encoded layer-wise here). */
  prompt: string;
  /** EWA's weight form (spec §3.3); default the library's ('code'). */
  form?: EwaForm;
  /** The run's CFG scale (> 1: guided, as the loop decides). */
  guidanceScale: number;
  /** Guidance rescale φ after CFG (diffusion/guidance-rescale.ts); 0 or absent: off. */
  guidanceRescale?: number;
  /** The run's latent (h, w). */
  latent: readonly [number, number];
  /** Sequential CFG: the uncond and cond passes at batch 1, one after another. */
  lowMemory?: boolean;
  /** 'fold' (default): W_eff once per prompt; 'adapters': the unfolded LoRAs applied every step. */
  mode?: 'fold' | 'adapters';
  /** A style strength per concept in task order (cidm/ewa/task-scales.ts); absent: all 1. */
  taskScales?: readonly number[];
}

/** One UNet forward of a step: its batch, text states and pooled embeds. */
interface Pass {
  batch: number;
  ehs: Tensor;
  layerContexts?: readonly Tensor[];
  pooled: Tensor;
}

export function ewaPredictor(library: EwaLibrary, o: EwaRunOptions): GuidedPredictorFactory {
  const guided = usesGuidance(o.guidanceScale);
  return {
    needsUncond: false,
    async create(parts: SdxlPipelineParts, global: { ehs: Tensor; pooled: Tensor }): Promise<GuidedPredictor> {
      const { ctx } = parts;
      const owned: Tensor[] = [];
      const contexts: LayerContexts[] = [];
      let releaseWeights = () => {};
      // attn2 K/V of the run's layer-wise (and uncond) states under its EWA weights, projected on the first step
      const kvCache = new CrossAttentionKvCache<Tensor>((...t) => ctx.release(...t));
      const release = () => {
        kvCache.release();
        for (const c of contexts) c.release();
        ctx.releaseLive(...owned);
        releaseWeights();
      };
      /** Row b of a [B, …] tensor as its own [1, …] tensor (a view at an offset would break binding alignment). */
      const row = async (t: Tensor, b: number, label: string) => {
        const cols = t.shape.slice(1).reduce((a, c) => a * c, 1);
        const r = ctx.empty([1, ...t.shape.slice(1)], t.dtype, label);
        owned.push(r);
        await stridedCopy(ctx, t, r, { rows: 1, cols, srcOffset: b * cols });
        return r;
      };
      try {
        let unet: UNetBackend<Tensor>;
        let states: Tensor;
        let pooled: Tensor | null;
        if ((o.mode ?? 'fold') === 'fold') {
          const prep = await library.prepare(o.prompt, { ...(o.form ? { form: o.form } : {}), ...(o.taskScales ? { taskScales: o.taskScales } : {}) });
          releaseWeights = prep.release;
          unet = new GpuUNetBackend(ctx, prep.folded.weights, parts.dtype, 'unet (EWA folded)');
          ({ states, pooled } = prep.prompt);
        } else {
          const p = await library.encodePrompt(o.prompt);
          owned.push(p.states, ...(p.pooled ? [p.pooled] : []));
          const adapters = await library.adapters(scaleTaskWeights(await library.weights(p.states, o.form ?? library.options.form), o.taskScales));
          releaseWeights = adapters.release;
          unet = new GpuUNetBackend(ctx, library.model.unet.weights, parts.dtype, 'unet (EWA adapters)', adapters.lora);
          ({ states, pooled } = p);
        }
        const L = library.layers;
        // the pooled embedding of the layer-0 copy (encode.ts); a model without the projection keeps the loop's
        const condPooled = pooled ?? (await row(global.pooled, guided ? 1 : 0, 'ewa-cond-pooled'));
        const passes: Pass[] = [];
        if (!guided) {
          const c = await layerContexts(ctx, states, L);
          contexts.push(c);
          passes.push({ batch: 1, ehs: c.contexts[0]!, layerContexts: c.contexts, pooled: condPooled });
        } else {
          const uncond = await row(global.ehs, 0, 'ewa-uncond-ehs');
          const uncondPooled = await row(global.pooled, 0, 'ewa-uncond-pooled');
          if (o.lowMemory) {
            const c = await layerContexts(ctx, states, L);
            contexts.push(c);
            passes.push({ batch: 1, ehs: uncond, pooled: uncondPooled });
            passes.push({ batch: 1, ehs: c.contexts[0]!, layerContexts: c.contexts, pooled: condPooled });
          } else {
            const c = await layerContexts(ctx, states, L, uncond);
            contexts.push(c);
            const both = await concat(ctx, [uncondPooled, condPooled], 0);
            owned.push(both);
            passes.push({ batch: 2, ehs: c.contexts[0]!, layerContexts: c.contexts, pooled: both });
          }
        }
        const [h, w] = o.latent;
        const forward = (p: Pass, arch: UNetArch, sample: Tensor, t: number, timeIds: readonly number[], signal?: AbortSignal) =>
          unetForward(unet, arch, {
            sample,
            timesteps: new Array<number>(p.batch).fill(t),
            encoderHiddenStates: p.ehs,
            ...(p.layerContexts ? { layerContexts: p.layerContexts } : {}),
            textEmbeds: p.pooled,
            timeIds: Array.from({ length: p.batch }, () => [...timeIds]).flat(),
            signal,
            crossAttentionKv: kvCache,
          });
        const onGpu: GpuGuidedPredictor = {
          predict: (_unet, arch, sample, t, timeIds, signal) =>
            gatherPasses(ctx, sample, passes.map((p) => ({ rows: p.batch })), (i, input) => forward(passes[i]!, arch, input, t, timeIds, signal), 'ewa-pred'),
          // no combine: the rows are [uncond, cond] (or the one cond row), and the loop's CFG applies
        };
        return {
          batch: guided ? 2 : 1,
          async predict(_unet: UNetBackend<Tensor>, arch: UNetArch, input: Float32Array, t: number, timeIds: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
            const out = new Float32Array((guided ? 2 : 1) * input.length);
            let at = 0;
            for (const p of passes) {
              const data = new Float32Array(p.batch * input.length);
              for (let b = 0; b < p.batch; b++) data.set(input, b * input.length);
              const sample = ctx.upload(data, [p.batch, arch.inChannels, h, w], parts.dtype, 'unet-sample');
              try {
                const pred = await forward(p, arch, sample, t, timeIds, signal);
                out.set(await ctx.read(pred), at);
                at += p.batch * input.length;
                ctx.release(pred);
              } finally {
                ctx.release(sample); // also after a cancel between blocks
              }
            }
            return out;
          },
          combine: (pred) => (guided ? classifierFreeGuidance(pred, o.guidanceScale, o.guidanceRescale) : Float32Array.from(pred)),
          onGpu,
          release,
        };
      } catch (err) {
        release();
        throw err;
      }
    },
  };
}

/**
 * The engine's EwaLibrary for the loaded model, built on the first prompt that names a concept and kept
 * (its concept-prompt states and packed LoRAs are per library, not per prompt) until the library
 * (setConcepts) or the model changes; the old one is destroyed then. On device loss it is forgotten,
 * not destroyed: its buffers died with the device.
 */
export class EwaLibraryCache {
  private entry: { training: SdxlTrainingParts; source: readonly Concept[]; lib: EwaLibrary } | null = null;

  /** The library of the concepts of `source` learned on `modelId` (at least one must be), for `training`'s model. */
  async get(ctx: GpuContext, training: SdxlTrainingParts, source: readonly Concept[], modelId: string): Promise<EwaLibrary> {
    const e = this.entry;
    if (e && e.training === training && e.source === source) return e.lib;
    this.invalidate();
    const lib = await EwaLibrary.create(ctx, training.model, training.tokenizers, modelConcepts(source, modelId));
    this.entry = { training, source, lib };
    return lib;
  }

  /** Destroys the cached library (concepts replaced, model unloaded or replaced). */
  invalidate(): void {
    this.entry?.lib.destroy();
    this.entry = null;
  }

  /** Drops the cached library without touching its buffers (the device is lost). */
  forget(): void {
    this.entry = null;
  }
}
