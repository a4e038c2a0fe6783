/**
 * One regional sampling step for the text-to-image loop (CIDM §4.3, spec §9.3): the UNet batch with
 * regional cross-attention, and the guidance + region noise aggregation that turn its output into E*.
 *
 * All passes of a step are ONE UNet forward with batch B = 2 + U (U > 1) or 2 (U = 1):
 *   b = 0      uncond: every region attends to its NEGATIVE prompt, the global negative elsewhere
 *              (Mix-of-Show's CFG batch, spec §4.2 "CFG batch")
 *   b = 1      cond-all: regional attention with all regions → E (spec §4.3 best reading)
 *   b = 1 + u  cond-u: only region u (Eq. 4's ε(z_t | [ĉ_u, ŝ_u], t)); other regions see the global prompt
 * With one region cond-u is cond-all (same inputs), so that pass is not run twice. Where the batch's
 * largest activation would pass the per-binding budget (SDXL 1024² with 2+ regions), the passes are
 * split into several forwards (batch-plan.ts); every kernel treats batch elements independently, so
 * the split does not change the result.
 * Then E = ε_unc + g·(ε_all − ε_unc) (g = the run's CFG scale; ε_all without CFG when g ≤ 1),
 * E_u = ε_unc + s·(ε_u − ε_unc) (s = regionGuidance, default 7.5), and E* by the corrected Eq. 5
 * (noise-aggregation.ts) with the latent-resolution masks.
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import type { UNetArch } from '../../model/unet/arch';
import type { UNetBackend } from '../../model/unet/backend';
import { unetForward, type RegionalInputs } from '../../model/unet/forward';
import type { GuidedPredictor, GuidedPredictorFactory, SdxlPipelineParts } from '../../diffusion/text-to-image';
import { usesGuidance } from '../../diffusion/sdxl-conditioning';
import { buildRegionMasks, isEmptyMask, type MaskData } from './masks';
import { aggregateRegionNoise, DEFAULT_REGION_ALPHA, DEFAULT_REGION_GUIDANCE, guide } from './noise-aggregation';
import { passesPerForward } from './batch-plan';

/** A painted region: its prompt, negative prompt and soft mask at image resolution (H×W). */
export interface RegionPrompt {
  prompt: string;
  negativePrompt: string;
  /** H×W, Float32 in 0..1 or Uint8 alpha in 0..255. */
  mask: MaskData;
}

export interface RegionalParams {
  width: number;
  height: number;
  guidanceScale: number;
  /** s of Eq. 4 for the region estimates; default 7.5. */
  regionGuidance?: number;
  /** α of Eq. 5; default 0.1. */
  regionAlpha?: number;
  /** At most this many passes per UNet forward; default: as many as fit the binding budget (batch-plan.ts). */
  regionMaxBatch?: number;
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

/** Encodes each distinct prompt once; '' with force_zeros_for_empty_prompt is all zeros (as the global negative). */
async function encodeAll(parts: SdxlPipelineParts, prompts: string[], zeroEmpty: boolean, size: number): Promise<Float32Array[]> {
  const cache = new Map<string, Float32Array>();
  for (const s of prompts) {
    if (cache.has(s)) continue;
    if (s === '' && zeroEmpty) {
      cache.set(s, new Float32Array(size));
      continue;
    }
    const e = await parts.encodePrompt(s);
    cache.set(s, await parts.ctx.read(e.embeds));
    parts.ctx.release(e.embeds, e.pooled);
  }
  return prompts.map((s) => cache.get(s)!);
}

/** The inputs of one UNet forward over passes [start, start + count). */
interface Chunk {
  start: number;
  count: number;
  ehs: Tensor;
  pooled: Tensor;
  regional: RegionalInputs<Tensor>;
}

export class RegionalStep implements GuidedPredictor {
  private constructor(
    private readonly ctx: GpuContext,
    /** Passes per step (the UNet batch if it ran as one forward). */
    readonly batch: number,
    readonly regionCount: number,
    private readonly chunks: Chunk[],
    private readonly masks: Tensor[],
    private readonly latentMasks: Float32Array[],
    private readonly latent: [number, number],
    private readonly g: { guided: boolean; scale: number; region: number; alpha: number },
  ) {}

  /**
   * Builds the passes from the global conditioning `global` ([uncond, cond] embeds and pooled, as the
   * loop made them; left to the caller to release) and the non-empty regions (activeRegions).
   */
  static async create(parts: SdxlPipelineParts, p: RegionalParams, regions: RegionPrompt[], global: { ehs: Tensor; pooled: Tensor }): Promise<RegionalStep> {
    const { ctx } = parts;
    const U = regions.length;
    if (U === 0) throw new RangeError('regional step without regions');
    const [twoB, T, C] = global.ehs.shape as [number, number, number];
    if (twoB !== 2) throw new RangeError('regional step needs the [uncond, cond] conditioning');
    const B = U > 1 ? 2 + U : 2;
    const P = global.pooled.shape[1]!;
    const ehs = await ctx.read(global.ehs);
    const pooled = await ctx.read(global.pooled);
    const neg = await encodeAll(parts, regions.map((r) => r.negativePrompt), parts.forceZerosForEmptyPrompt, T * C);
    const pos = await encodeAll(parts, regions.map((r) => r.prompt), false, T * C);
    const set = buildRegionMasks(regions.map((r) => ({ data: r.mask, height: p.height, width: p.width })), parts.unetArch, p.height, p.width);
    const masks = new Map<string, Tensor>();
    for (const [key, m] of set.attention) masks.set(key, ctx.upload(m.data, [1, U, m.grid.h * m.grid.w], 'f32', `region-masks-${key}`));
    const per = p.regionMaxBatch ?? (await passesPerForward(parts.unetArch, p.height / 8, p.width / 8, U, parts.dtype));
    const chunks: Chunk[] = [];
    for (let start = 0; start < B; start += per) {
      const count = Math.min(per, B - start);
      const ehsB = new Float32Array(count * T * C);
      const pooledB = new Float32Array(count * P);
      const embeds = new Float32Array(count * U * T * C);
      const active = new Float32Array(count * U);
      for (let i = 0; i < count; i++) {
        const b = start + i;
        const half = b === 0 ? 0 : 1; // pass 0 is uncond, every other pass conditions on the global prompt
        ehsB.set(ehs.subarray(half * T * C, (half + 1) * T * C), i * T * C);
        pooledB.set(pooled.subarray(half * P, (half + 1) * P), i * P);
        for (let u = 0; u < U; u++) {
          embeds.set((b === 0 ? neg : pos)[u]!, (i * U + u) * T * C);
          active[i * U + u] = b < 2 || b - 2 === u ? 1 : 0;
        }
      }
      chunks.push({
        start,
        count,
        ehs: ctx.upload(ehsB, [count, T, C], parts.dtype, 'regional-encoder-hidden-states'),
        pooled: ctx.upload(pooledB, [count, P], parts.dtype, 'regional-text-embeds'),
        regional: { embeds: ctx.upload(embeds, [count, U, T, C], parts.dtype, 'region-embeds'), masks, active: ctx.upload(active, [count, U], 'f32', 'region-active') },
      });
    }
    const g = { guided: usesGuidance(p.guidanceScale), scale: p.guidanceScale, region: p.regionGuidance ?? DEFAULT_REGION_GUIDANCE, alpha: p.regionAlpha ?? DEFAULT_REGION_ALPHA };
    return new RegionalStep(ctx, B, U, chunks, [...masks.values()], set.latent, [p.height / 8, p.width / 8], g);
  }

  /** Forwards per step (1 unless the passes had to be split). */
  get forwards(): number {
    return this.chunks.length;
  }

  /**
   * The UNet output of every pass [B, 4, h, w] for the scaled model input `input` [4, h, w] at timestep
   * t; `timeIds` are one sample's six micro-conditioning ids.
   */
  async predict(unet: UNetBackend<Tensor>, arch: UNetArch, input: Float32Array, t: number, timeIds: readonly number[]): Promise<Float32Array> {
    const n = input.length;
    const out = new Float32Array(this.batch * n);
    for (const c of this.chunks) {
      const data = new Float32Array(c.count * n);
      for (let i = 0; i < c.count; i++) data.set(input, i * n);
      const sample = this.ctx.upload(data, [c.count, arch.inChannels, ...this.latent], c.ehs.dtype, 'unet-sample');
      const pred = await unetForward(unet, arch, {
        sample,
        timesteps: new Array<number>(c.count).fill(t),
        encoderHiddenStates: c.ehs,
        textEmbeds: c.pooled,
        timeIds: Array.from({ length: c.count }, () => [...timeIds]).flat(),
        regional: c.regional,
      });
      out.set(await this.ctx.read(pred), c.start * n);
      this.ctx.release(pred, sample);
    }
    return out;
  }

  /** E* [4, h, w] from the UNet output [B, 4, h, w] of every pass. */
  combine(noisePred: Float32Array): Float32Array {
    const n = noisePred.length / this.batch;
    const pass = (b: number) => noisePred.subarray(b * n, (b + 1) * n);
    const unc = pass(0);
    const all = pass(1);
    const E = this.g.guided ? guide(unc, all, this.g.scale) : Float32Array.from(all);
    const regionE = Array.from({ length: this.regionCount }, (_, u) => guide(unc, this.regionCount > 1 ? pass(2 + u) : all, this.g.region));
    return aggregateRegionNoise(E, regionE, this.latentMasks, this.g.alpha);
  }

  release(): void {
    for (const c of this.chunks) this.ctx.release(c.ehs, c.pooled, c.regional.embeds, c.regional.active);
    this.ctx.release(...this.masks);
  }
}

/**
 * The loop's plug-in for painted regions (text-to-image.ts GuidedPredictorFactory), or null when no
 * region has any coverage: then the run is exactly the plain one (mechanism check (b)).
 */
export function regionalPredictor(p: RegionalParams, regions: readonly RegionPrompt[] | undefined): GuidedPredictorFactory | null {
  const active = activeRegions(regions, p.width, p.height);
  if (active.length === 0) return null;
  return { needsUncond: true, create: (parts, global) => RegionalStep.create(parts, p, active, global) };
}
