/**
 * EWA's merge (spec §3.2 step 4, §9.2): for every cross-attention layer l and each of its q/k/v/out
 * linears, once per prompt,
 *   W_eff = W0 + s_lora · Σ_i w_i^l · U_i · D_i        (s_lora = 0.8, the code's --alpha)
 * computed on the GPU as one product: the ups of all G concepts side by side [out, ΣR], each concept's
 * columns scaled by s_lora·w_i^l, times their downs stacked [ΣR, in] (src/ops/lora.ts's packing), then
 * added to W0 into a new persistent tensor. The weights depend on the text only, so after this the
 * UNet runs plain linears: a sampling step costs the same with 1 or 100 concepts.
 *
 * The bank holds every concept's downs and raw ups packed per target, resident for the library's life
 * (rank 4 per concept: SDXL's 280 linears hold ~3 M values per concept); only the column scales change
 * from prompt to prompt.
 */
import type { GpuContext } from '../../gpu/context';
import { toF16Array } from '../../gpu/f16';
import { describe, type DType, type Tensor } from '../../gpu/tensor';
import { mul } from '../../ops/elementwise';
import { addWeightDelta } from '../../ops/weight-delta';
import { matmul } from '../../ops/matmul';
import type { PackedLora } from '../../ops/lora';
import type { Concept } from '../concepts/concept';
import type { LoraTarget } from '../train/layers';

/** The code's global LoRA scale at inference (inference.py --alpha). */
export const EWA_LORA_SCALE = 0.8;

export interface PackedTarget {
  target: LoraTarget;
  /** [ΣR, in]: every concept's down, stacked in task order. */
  down: Tensor;
  /** [out, ΣR]: every concept's up, side by side in task order (unscaled). */
  up: Tensor;
}

export interface EwaLoraBank {
  readonly dtype: DType;
  /** Per concept (task order): its rank. */
  readonly ranks: readonly number[];
  readonly totalRank: number;
  readonly layers: number;
  readonly packed: readonly PackedTarget[];
  destroy(): void;
}

function persistentFrom(ctx: GpuContext, data: Float32Array, shape: number[], dtype: DType, label: string): Tensor {
  const t = ctx.persistent(shape, dtype, label);
  ctx.write(t, dtype === 'f16' ? toF16Array(data) : data);
  return t;
}

function destroyPacked(ctx: GpuContext, packed: readonly PackedTarget[]): void {
  for (const p of packed) {
    ctx.destroyTensor(p.down);
    ctx.destroyTensor(p.up);
  }
}

/** Packs the concepts' LoRAs (task order) for every target and uploads them in `dtype`. */
export function createLoraBank(ctx: GpuContext, targets: readonly LoraTarget[], concepts: readonly Concept[], dtype: DType): EwaLoraBank {
  if (!concepts.length) throw new RangeError('EWA: no concepts to fold');
  const ranks = concepts.map((c) => c.rank);
  const R = ranks.reduce((a, b) => a + b, 0);
  const packed: PackedTarget[] = [];
  try {
    for (const t of targets) {
      const down = new Float32Array(R * t.inFeatures);
      const up = new Float32Array(t.outFeatures * R);
      let col = 0;
      for (const c of concepts) {
        const l = c.lora.get(t.module);
        const r = c.rank;
        if (!l) throw new RangeError(`concept "${c.name}" has no LoRA for ${t.module}`);
        if (l.inFeatures !== t.inFeatures || l.outFeatures !== t.outFeatures || l.down.length !== r * t.inFeatures || l.up.length !== t.outFeatures * r) {
          throw new RangeError(`concept "${c.name}": the LoRA of ${t.module} (down ${l.down.length}, up ${l.up.length} values) does not fit [${t.outFeatures}, ${t.inFeatures}] at rank ${r}`);
        }
        down.set(l.down, col * t.inFeatures);
        for (let o = 0; o < t.outFeatures; o++) up.set(l.up.subarray(o * r, (o + 1) * r), o * R + col);
        col += r;
      }
      packed.push({
        target: t,
        down: persistentFrom(ctx, down, [R, t.inFeatures], dtype, `ewa ${t.module} downs`),
        up: persistentFrom(ctx, up, [t.outFeatures, R], dtype, `ewa ${t.module} ups`),
      });
    }
  } catch (err) {
    destroyPacked(ctx, packed);
    throw err;
  }
  const layers = targets.reduce((m, t) => Math.max(m, t.layer + 1), 0);
  return {
    dtype, ranks, totalRank: R, layers, packed,
    destroy: () => destroyPacked(ctx, packed),
  };
}

/** Per layer, the [ΣR] column scales s·w_i^l (each concept's value repeated over its rank). */
function columnScales(bank: EwaLoraBank, layerWeights: readonly ArrayLike<number>[], scale: number): Float32Array[] {
  if (layerWeights.length !== bank.layers) throw new RangeError(`EWA: weights for ${layerWeights.length} layers, the UNet has ${bank.layers}`);
  return layerWeights.map((w, l) => {
    if (w.length !== bank.ranks.length) throw new RangeError(`EWA: layer ${l} has ${w.length} weights for ${bank.ranks.length} concepts`);
    const out = new Float32Array(bank.totalRank);
    let col = 0;
    bank.ranks.forEach((r, i) => {
      out.fill(scale * w[i]!, col, col + r);
      col += r;
    });
    return out;
  });
}

/** The scaled ups [out, ΣR] of every target (pooled tensors, the caller releases them). */
async function scaledUps(ctx: GpuContext, bank: EwaLoraBank, layerWeights: readonly ArrayLike<number>[], scale: number): Promise<Tensor[]> {
  const cols = columnScales(bank, layerWeights, scale).map((s, l) => ctx.upload(s, [bank.totalRank], bank.dtype, `ewa-scales-${l}`));
  try {
    const ups: Tensor[] = [];
    for (const p of bank.packed) ups.push(await mul(ctx, p.up, cols[p.target.layer]!, { label: 'ewa-scaled-ups' }));
    return ups;
  } finally {
    ctx.release(...cols);
  }
}

export interface FoldedWeights {
  /** The base weights with the 4·L attn2 linears replaced by W_eff (GpuUNetBackend takes this map). */
  readonly weights: ReadonlyMap<string, Tensor>;
  /** The W_eff tensors (owned here). */
  readonly folded: readonly Tensor[];
  /** Destroys the W_eff tensors; the base weights are untouched. */
  release(): void;
}

function baseWeight(base: ReadonlyMap<string, Tensor>, p: PackedTarget, dtype: DType): Tensor {
  const w = base.get(p.target.weight);
  if (!w) throw new RangeError(`EWA: the UNet has no ${p.target.weight}`);
  // A packed-f16 base weight under an f32 bank is the no-shader-f16 path (ops/matmul.ts isPackedOperand).
  const packed = w.dtype === 'f16' && dtype === 'f32';
  if ((w.dtype !== dtype && !packed) || w.shape[0] !== p.target.outFeatures || w.shape[1] !== p.target.inFeatures) {
    throw new RangeError(`EWA: ${p.target.weight} is ${describe(w)}, the LoRAs need ${dtype}[${p.target.outFeatures}×${p.target.inFeatures}]`);
  }
  return w;
}

/**
 * W_eff = W0 + scale·Σ_i w_i^l U_i D_i for every target: layerWeights[l] is w^l (task order), scale
 * s_lora (default 0.8). One matmul and one add per linear, whatever the number of concepts.
 */
export async function foldEwa(
  ctx: GpuContext, base: ReadonlyMap<string, Tensor>, bank: EwaLoraBank, layerWeights: readonly ArrayLike<number>[], o: { scale?: number } = {},
): Promise<FoldedWeights> {
  const ups = await scaledUps(ctx, bank, layerWeights, o.scale ?? EWA_LORA_SCALE);
  const weights = new Map(base);
  const folded: Tensor[] = [];
  try {
    for (const [i, p] of bank.packed.entries()) {
      const w0 = baseWeight(base, p, bank.dtype);
      const delta = await matmul(ctx, ups[i]!, p.down, { label: 'ewa-fold' });
      // W0 may be a packed-f16 weight (no shader-f16): W_eff is then written packed (ops/weight-delta.ts).
      const w = await addWeightDelta(ctx, w0, delta, `${p.target.weight} (EWA)`).finally(() => ctx.release(delta));
      folded.push(w);
      weights.set(p.target.weight, w);
    }
  } catch (err) {
    for (const t of folded) ctx.destroyTensor(t);
    throw err;
  } finally {
    ctx.release(...ups);
  }
  return { weights, folded, release: () => folded.forEach((t) => ctx.destroyTensor(t)) };
}

export interface EwaAdapters {
  /** By base weight tensor, for GpuUNetBackend's `lora` option. */
  readonly lora: ReadonlyMap<Tensor, PackedLora>;
  release(): void;
}

/**
 * The same aggregation unfolded: each attn2 linear applies x·W0ᵀ + Σ_i s·w_i^l·(x·D_iᵀ)·U_iᵀ as a fused
 * LoRA (src/ops/lora.ts loraLinear) on every step. The check that folding changes nothing, and the
 * form to use where a second copy of the attn2 weights does not fit.
 */
export async function ewaAdapters(
  ctx: GpuContext, base: ReadonlyMap<string, Tensor>, bank: EwaLoraBank, layerWeights: readonly ArrayLike<number>[], o: { scale?: number } = {},
): Promise<EwaAdapters> {
  const ups = await scaledUps(ctx, bank, layerWeights, o.scale ?? EWA_LORA_SCALE);
  try {
    const lora = new Map(bank.packed.map((p, i) => [baseWeight(base, p, bank.dtype), { down: p.down, up: ups[i]!, rank: bank.totalRank }] as const));
    return { lora, release: () => ctx.releaseLive(...ups) };
  } catch (err) {
    ctx.release(...ups);
    throw err;
  }
}

/** Plain-TS reference of one fold, f64 accumulation: W0 [out, in] + scale·Σ_i w_i U_i [out, r_i] D_i [r_i, in]. */
export function foldReference(
  w0: ArrayLike<number>, out: number, inF: number, loras: readonly { down: ArrayLike<number>; up: ArrayLike<number>; rank: number }[], weights: ArrayLike<number>, scale: number,
): Float32Array {
  const y = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) {
    for (let k = 0; k < inF; k++) {
      let acc = 0;
      loras.forEach((a, i) => {
        let d = 0;
        for (let r = 0; r < a.rank; r++) d += a.up[o * a.rank + r]! * a.down[r * inF + k]!;
        acc += weights[i]! * d;
      });
      y[o * inF + k] = w0[o * inF + k]! + scale * acc;
    }
  }
  return y;
}
