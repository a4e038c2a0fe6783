/**
 * One regional sampling step for the text-to-image loop (CIDM §4.3, spec §9.3): the UNet batch with
 * regional cross-attention, and the guidance + region noise aggregation that turn its output into E*.
 *
 * The passes of a step (passes.ts), run as one UNet forward where the binding budget allows:
 *   uncond     every region attends to its NEGATIVE prompt, the global negative elsewhere (Mix-of-Show's
 *              CFG batch, spec §4.2); a region whose negative is empty uses the scene's global negative
 *              (the user wrote one negative for the whole picture). Only when guided.
 *   all        regional attention with all regions → E (spec §4.3 best reading)
 *   region u   only region u (Eq. 4's ε(z_t | [ĉ_u, ŝ_u], t)); other regions see the global prompt.
 *              With one region this is the all pass, so it is not run twice.
 * One guidance scale s for E and every E_u (passes.ts says why); s ≤ 1 drops the uncond pass.
 * Where the batch's largest activation would pass the per-binding budget (SDXL 1024² with 2+ regions),
 * or in low-memory mode (one pass per forward), the passes are split into several forwards
 * (batch-plan.ts); every kernel treats batch elements independently, so the split changes nothing.
 *
 * SDXL's pooled text embedding (the add_embedding input, a global modulation of every resnet): the
 * uncond pass keeps the global negative's and the all pass the global prompt's — E is read everywhere
 * outside the regions. Region u's own pass uses region u's pooled embedding: Eq. 5 reads its estimate
 * only inside region u, so there the whole UNet, not only attn2, is conditioned on that region's text.
 * With one region there is no such pass (its estimate is the all pass, read outside it too), so the
 * global pooled embedding stays.
 *
 * With an EWA library and a prompt that names concepts, the step is concept-aware (concept-regions.ts):
 * every prompt encoded layer-wise with its own EWA weights, applied per prompt inside attn2.
 *
 * Two forms of the same step: predict/combine on host arrays (the host loop, the reference) and onGpu
 * for the GPU sampling loop (the passes stay on the GPU; E* by ops/regional-noise-aggregation.ts).
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import type { UNetArch } from '../../model/unet/arch';
import type { UNetBackend } from '../../model/unet/backend';
import { unetForward, type ConceptRegionalInputs, type RegionalInputs } from '../../model/unet/forward';
import { CrossAttentionKvCache } from '../../model/unet/cross-attention-kv-cache';
import type { GpuGuidedPredictor, GuidedPredictor, GuidedPredictorFactory, SdxlPipelineParts } from '../../diffusion/text-to-image';
import { regionalNoiseAggregation, type RegionalAggregation } from '../../ops/regional-noise-aggregation';
import { gatherPasses } from '../../diffusion/gpu-passes';
import { buildRegionMasks, isEmptyMask, type MaskData } from './masks';
import { DEFAULT_REGION_ALPHA } from './noise-aggregation';
import { passesPerForward } from './batch-plan';
import { combinePasses, regionalGuidance, regionalPasses, type RegionalGuidance, type RegionalPass } from './passes';
import { combinationCoefficients, type ConceptPrompts } from './concept-regions';
import { regionText } from './region-text';
import type { EwaLibrary } from '../ewa/ewa';

/** A painted region: its prompt, negative prompt and soft mask at image resolution (H×W). */
export interface RegionPrompt {
  prompt: string;
  /** '' = the run's global negative prompt. */
  negativePrompt: string;
  /** H×W, Float32 in 0..1 or Uint8 alpha in 0..255. */
  mask: MaskData;
}

export interface RegionalParams {
  width: number;
  height: number;
  /** The run's CFG scale: the one scale of E and every E_u unless regionGuidance is set. */
  guidanceScale: number;
  /** The global prompt; needed with an EWA library (encoded layer-wise for its own EWA weights). */
  prompt?: string;
  /** s of Eq. 4, if set: replaces guidanceScale for E and every E_u alike (passes.ts). */
  regionGuidance?: number;
  /** α of Eq. 5; default 0.1. */
  regionAlpha?: number;
  /** At most this many passes per UNet forward; default: as many as fit the binding budget (batch-plan.ts). */
  regionMaxBatch?: number;
  /** 'low': one pass per UNet forward (GenerateParams.memoryMode). */
  memoryMode?: 'balanced' | 'low';
}

/** Concept-aware regions: the library whose concepts prompts name, and EWA's weight form (spec §3.3). */
export interface RegionalEwa {
  library: EwaLibrary;
  form: 'code' | 'paper';
}

/** The regions that do anything: masks checked for size, empty ones dropped (an empty mask changes nothing). */
export function activeRegions(regions: readonly RegionPrompt[] | undefined, width: number, height: number): RegionPrompt[] {
  const out: RegionPrompt[] = [];
  for (const [i, r] of (regions ?? []).entries()) {
    if (r.mask.length !== width * height) throw new RangeError(`region ${i + 1}: its mask has ${r.mask.length} values, the image ${width}×${height} needs ${width * height}`);
    if (!isEmptyMask(r.mask)) out.push(r);
  }
  return out;
}


/** The inputs of one UNet forward over passes [start, start + count). */
interface Chunk {
  start: number;
  count: number;
  ehs: Tensor;
  pooled: Tensor;
  regional: RegionalInputs<Tensor> | ConceptRegionalInputs<Tensor>;
  /** Tensors made for this chunk only. */
  owned: Tensor[];
}

export class RegionalStep implements GuidedPredictor {
  /**
   * attn2 K/V for the whole run (model/unet/cross-attention-kv-cache.ts): each chunk's states and region
   * embeds are fixed at create, so plain regions project K/V on the first step only; concept-aware regions
   * project theirs every step (regionalAttentionModule). Released with the step.
   */
  private readonly kvCache: CrossAttentionKvCache<Tensor>;
  private constructor(
    private readonly ctx: GpuContext,
    readonly passes: readonly RegionalPass[],
    readonly regionCount: number,
    private readonly chunks: Chunk[],
    private readonly masks: Tensor[],
    private readonly latentMasks: Float32Array[],
    private readonly latent: [number, number],
    readonly guidance: RegionalGuidance,
    private readonly alpha: number,
    private readonly concepts: ConceptPrompts | null,
    /** The latent masks [U, h, w] on the GPU, for the GPU loop's aggregation. */
    private readonly latentMasksGpu: Tensor,
  ) {
    this.kvCache = new CrossAttentionKvCache<Tensor>((...t) => ctx.release(...t));
  }

  /**
   * Builds the passes from the global conditioning `global` ([uncond, cond] embeds and pooled, or [cond]
   * when the run is unguided — as the loop made them; left to the caller to release), the non-empty
   * regions (activeRegions) and, for concept-aware regions, the EWA library.
   */
  static async create(parts: SdxlPipelineParts, p: RegionalParams, regions: RegionPrompt[], global: { ehs: Tensor; pooled: Tensor }, ewa?: RegionalEwa): Promise<RegionalStep> {
    const { ctx } = parts;
    const U = regions.length;
    if (U === 0) throw new RangeError('regional step without regions');
    const g = regionalGuidance(p);
    const passes = regionalPasses(U, g.guided);
    const text = await regionText(parts, p.prompt, regions, global, g.guided, ewa);
    const owned: Tensor[] = [];
    const chunks: Chunk[] = [];
    try {
      const { tokens: T, channels: C } = text;
      const P = text.globalPooled.length;
      const set = buildRegionMasks(regions.map((r) => ({ data: r.mask, height: p.height, width: p.width })), parts.unetArch, p.height, p.width, parts.latentFactor);
      const masks = new Map<string, Tensor>();
      for (const [key, m] of set.attention) {
        const t = ctx.upload(m.data, [1, U, m.grid.h * m.grid.w], 'f32', `region-masks-${key}`);
        owned.push(t);
        masks.set(key, t);
      }
      const [lh, lw] = [p.height / parts.latentFactor, p.width / parts.latentFactor];
      const concepts = text.concepts;
      const per = p.memoryMode === 'low' ? 1 : p.regionMaxBatch ?? (await passesPerForward(parts.unetArch, lh, lw, U, parts.dtype, concepts ? { rank: concepts.scalesT[0]!.shape[0]! } : undefined));
      if (!(per >= 1)) throw new RangeError(`regional step: ${per} passes per forward`);
      for (let start = 0; start < passes.length; start += per) {
        const count = Math.min(per, passes.length - start);
        const mine = passes.slice(start, start + count);
        const ehsB = new Float32Array(count * T * C);
        const pooledB = new Float32Array(count * P);
        const activeRows = mine.map((pass) => Array.from({ length: U }, (_, u) => (pass.kind !== 'region' || pass.region === u ? 1 : 0)));
        mine.forEach((pass, i) => {
          const uncond = pass.kind === 'uncond';
          ehsB.set(uncond ? text.globalNeg! : text.globalCond, i * T * C);
          pooledB.set(uncond ? text.globalNegPooled! : pass.kind === 'region' ? text.pooled[pass.region]! : text.globalPooled, i * P);
        });
        const chunkOwned: Tensor[] = [];
        const up = (data: Float32Array, shape: number[], dtype: 'f32' | typeof parts.dtype, label: string) => {
          const t = ctx.upload(data, shape, dtype, label);
          chunkOwned.push(t);
          return t;
        };
        const active = up(Float32Array.from(activeRows.flat()), [count, U], 'f32', 'region-active');
        let regional: Chunk['regional'];
        if (concepts) {
          const coefficients = new Map<string, Tensor>();
          for (const [key, m] of set.attention) {
            const tq = m.grid.h * m.grid.w;
            coefficients.set(key, up(combinationCoefficients(m.data, activeRows, U, tq), [count, tq, U + 1], parts.dtype, `region-coefficients-${key}`));
          }
          const { negative, positive, scales, scalesT, adapters } = concepts;
          regional = { masks, active, concepts: { negativePass: mine.map((x) => x.kind === 'uncond'), negative, positive, scales, scalesT, coefficients, adapters } };
        } else {
          const embeds = new Float32Array(count * U * T * C);
          mine.forEach((pass, i) => {
            for (let u = 0; u < U; u++) embeds.set((pass.kind === 'uncond' ? text.negatives! : text.positives)[u]!, (i * U + u) * T * C);
          });
          regional = { embeds: up(embeds, [count, U, T, C], parts.dtype, 'region-embeds'), masks, active };
        }
        chunks.push({
          start,
          count,
          ehs: up(ehsB, [count, T, C], parts.dtype, 'regional-encoder-hidden-states'),
          pooled: up(pooledB, [count, P], parts.dtype, 'regional-text-embeds'),
          regional,
          owned: chunkOwned,
        });
      }
      const latentMasksGpu = ctx.upload(concatMasks(set.latent), [U, lh, lw], 'f32', 'region-latent-masks');
      owned.push(latentMasksGpu);
      return new RegionalStep(ctx, passes, U, chunks, owned, set.latent, [lh, lw], g, p.regionAlpha ?? DEFAULT_REGION_ALPHA, concepts, latentMasksGpu);
    } catch (err) {
      ctx.releaseLive(...owned, ...chunks.flatMap((c) => c.owned));
      text.concepts?.release();
      throw err;
    }
  }

  /** Passes per step (the UNet batch if it ran as one forward). */
  get batch(): number {
    return this.passes.length;
  }

  /** Forwards per step (1 unless the passes had to be split). */
  get forwards(): number {
    return this.chunks.length;
  }

  /** True when the prompts' concepts shape their own regions (EWA per prompt). */
  get conceptAware(): boolean {
    return this.concepts !== null;
  }

  /**
   * The UNet output of every pass [passes, 4, h, w] for the scaled model input `input` [4, h, w] at
   * timestep t; `timeIds` are one sample's six micro-conditioning ids. `unet` must run the base attn2
   * weights (no EWA fold): concept-aware regions add each prompt's EWA term themselves.
   */
  async predict(unet: UNetBackend<Tensor>, arch: UNetArch, input: Float32Array, t: number, timeIds: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
    const n = input.length;
    const out = new Float32Array(this.batch * n);
    for (const c of this.chunks) {
      const data = new Float32Array(c.count * n);
      for (let i = 0; i < c.count; i++) data.set(input, i * n);
      const sample = this.ctx.upload(data, [c.count, arch.inChannels, ...this.latent], c.ehs.dtype, 'unet-sample');
      try {
        const pred = await this.forward(unet, arch, c, sample, t, timeIds, signal);
        out.set(await this.ctx.read(pred), c.start * n);
        this.ctx.release(pred);
      } finally {
        this.ctx.release(sample);
      }
    }
    return out;
  }

  /** E* [4, h, w] from the UNet output [passes, 4, h, w] (passes.ts). */
  combine(noisePred: Float32Array): Float32Array {
    return combinePasses(noisePred, this.passes, this.guidance, this.latentMasks, this.alpha);
  }

  /**
   * The GPU loop's form (text-to-image.ts GpuGuidedPredictor): the same forwards on the loop's one-row
   * model input (repeated over each forward's passes on the GPU), their outputs gathered into one
   * [passes, C, h, w] tensor, and E* by the aggregation kernel (ops/regional-noise-aggregation.ts, the
   * same math as combine()); no readback inside a step.
   */
  get onGpu(): GpuGuidedPredictor {
    return {
      predict: (unet, arch, sample, t, timeIds, signal) => this.predictOnGpu(unet, arch, sample, t, timeIds, signal),
      combine: (pred, guided) => regionalNoiseAggregation(this.ctx, pred, this.latentMasksGpu, guided, this.aggregation()),
    };
  }

  /** Where combinePasses finds E's and every E_u's pass, for the kernel. */
  private aggregation(): RegionalAggregation {
    const row = (match: (p: RegionalPass) => boolean) => this.passes.findIndex(match);
    const regionBase = this.regionCount > 1 ? row((p) => p.kind === 'region' && p.region === 0) : null;
    if (regionBase !== null && this.passes.some((p, b) => p.kind === 'region' && b !== regionBase + p.region)) throw new RangeError('regional step: the region passes are not in region order');
    return { guided: this.guidance.guided, scale: this.guidance.scale, alpha: this.alpha, uncondRow: Math.max(0, row((p) => p.kind === 'uncond')), allRow: row((p) => p.kind === 'all'), regionBase };
  }

  private predictOnGpu(unet: UNetBackend<Tensor>, arch: UNetArch, sample: Tensor, t: number, timeIds: readonly number[], signal?: AbortSignal): Promise<Tensor> {
    // each chunk's forward runs its passes at once, on the one-row input repeated (chunks are in pass order)
    return gatherPasses(this.ctx, sample, this.chunks.map((c) => ({ rows: c.count })), (i, input) => this.forward(unet, arch, this.chunks[i]!, input, t, timeIds, signal), 'regional-pred');
  }

  /** One chunk's forward: its passes at once on `sample` ([count, C, h, w]), with the run's attn2 K/V cache. */
  private forward(unet: UNetBackend<Tensor>, arch: UNetArch, c: Chunk, sample: Tensor, t: number, timeIds: readonly number[], signal?: AbortSignal): Promise<Tensor> {
    return unetForward(unet, arch, {
      sample,
      timesteps: new Array<number>(c.count).fill(t),
      encoderHiddenStates: c.ehs,
      textEmbeds: c.pooled,
      timeIds: Array.from({ length: c.count }, () => [...timeIds]).flat(),
      regional: c.regional,
      signal,
      crossAttentionKv: this.kvCache,
    });
  }

  release(): void {
    this.kvCache.release();
    for (const c of this.chunks) this.ctx.releaseLive(...c.owned);
    this.ctx.releaseLive(...this.masks);
    this.concepts?.release();
  }
}

/** The latent masks m_u [h, w] as one [U, h, w] array. */
function concatMasks(masks: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(masks.reduce((k, m) => k + m.length, 0));
  masks.reduce((at, m) => (out.set(m, at), at + m.length), 0);
  return out;
}

/**
 * The loop's plug-in for painted regions (text-to-image.ts GuidedPredictorFactory), or null when no
 * region has any coverage: then the run is exactly the plain one (mechanism check (b)). With `ewa`
 * (the engine's library when any prompt names a concept) every prompt gets its own EWA weights.
 */
export function regionalPredictor(p: RegionalParams, regions: readonly RegionPrompt[] | undefined, ewa?: RegionalEwa): GuidedPredictorFactory | null {
  const active = activeRegions(regions, p.width, p.height);
  if (active.length === 0) return null;
  return { needsUncond: regionalGuidance(p).guided, create: (parts, global) => RegionalStep.create(parts, p, active, global, ewa) };
}
