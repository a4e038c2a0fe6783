/**
 * LoRA linear layers (Hu et al. 2021, eq. 3): y = x·Wᵀ + b + Σᵢ sᵢ·(x·Dᵢᵀ)·Uᵢᵀ, for any number of
 * adapters i with down Dᵢ [rᵢ, in], up Uᵢ [out, rᵢ] and scale sᵢ = strength·alpha/rank.
 *
 * Two equivalent ways, which must agree:
 *  - fused: the adapters are packed once into D = [D₁; D₂; …] [R, in] and U = [s₁U₁ | s₂U₂ | …]
 *    [out, R] (R = Σ rᵢ), then every call is y = linear(x, W, b) + (x·Dᵀ)·Uᵀ: two thin matmuls, the
 *    same cost for one adapter or many of rank r;
 *  - folded: W' = W + U·D once (one [out, R]×[R, in] matmul), after which the layer costs exactly a
 *    plain linear. This is what elastic weight aggregation does per prompt (DESIGN, idea 2).
 */
import type { GpuContext } from '../gpu/context';
import { describe, type Tensor } from '../gpu/tensor';
import { concat } from './concat';
import { mul, scale as scaleOp } from './elementwise';
import { linear } from './linear';
import { LORA_EPILOGUE_MAX_RANK, matmul } from './matmul';
import { addWeightDelta } from './weight-delta';

export interface LoraAdapter {
  /** [rank, in] */
  down: Tensor;
  /** [out, rank] */
  up: Tensor;
  /** strength × alpha / rank */
  scale: number;
}

/** Adapters of one layer, packed for the fused path. */
export interface PackedLora {
  /** [R, in] */
  down: Tensor;
  /** [out, R], each adapter's columns already multiplied by its scale */
  up: Tensor;
  rank: number;
}

export async function packLora(ctx: GpuContext, weight: Tensor, adapters: readonly LoraAdapter[]): Promise<PackedLora> {
  const [out, inF] = weight.shape as [number, number];
  if (!adapters.length) throw new RangeError('packLora: no adapters');
  for (const a of adapters) {
    const r = a.down.shape[0]!;
    if (a.down.shape[1] !== inF || a.up.shape[0] !== out || a.up.shape[1] !== r) {
      throw new RangeError(`LoRA down ${describe(a.down)} / up ${describe(a.up)} do not fit weight ${describe(weight)}`);
    }
  }
  const scaledUps = await Promise.all(adapters.map((a) => scaleOp(ctx, a.up, a.scale)));
  const down = adapters.length === 1 ? await scaleOp(ctx, adapters[0]!.down, 1) : await concat(ctx, adapters.map((a) => a.down), 0);
  const up = adapters.length === 1 ? scaledUps[0]! : await concat(ctx, scaledUps, 1);
  if (adapters.length > 1) ctx.release(...scaledUps);
  return { down, up, rank: down.shape[0]! };
}

export function releasePacked(ctx: GpuContext, p: PackedLora): void {
  ctx.release(p.down, p.up);
}

/** Whether a packed LoRA runs inside its layer's matmul (one dispatch): rank ≤ 16, in x's dtype. */
export function loraInKernel(x: Tensor, lora: PackedLora): boolean {
  return lora.rank <= LORA_EPILOGUE_MAX_RANK && lora.down.dtype === x.dtype && lora.up.dtype === x.dtype;
}

/**
 * Fused LoRA linear: y = x·Wᵀ + b + (x·Dᵀ)·Uᵀ [+ residual]. One dispatch where loraInKernel holds (the
 * low-rank term in the layer's own matmul, matmul_tiled.wgsl LORA, the residual in its epilogue);
 * otherwise three: the layer (with the residual), x·Dᵀ, and the up projection with the layer's output as
 * its residual epilogue.
 */
export async function loraLinear(ctx: GpuContext, x: Tensor, weight: Tensor, bias: Tensor | undefined, lora: PackedLora, residual?: Tensor): Promise<Tensor> {
  if (loraInKernel(x, lora)) {
    return linear(ctx, x, weight, bias, { lora: { down: lora.down, up: lora.up }, ...(residual ? { residual } : {}), label: 'lora-linear' });
  }
  const base = await linear(ctx, x, weight, bias, residual ? { residual } : {});
  const t = await matmul(ctx, x, lora.down, { transB: true, label: 'lora-down' });
  // the up projection's epilogue adds the base layer (matmul's residual, in f32 before the one cast):
  // three dispatches instead of four, and no separate delta tensor (issue 15 point 3)
  const y = await matmul(ctx, t, lora.up, { transB: true, residual: base, label: 'lora-up' });
  ctx.release(t, base);
  return y;
}

/**
 * Folded weight W' = W + U·D, as a new persistent tensor in W's storage dtype (the caller owns it), or
 * written into `into` (a persistent tensor of W's shape and dtype, e.g. a view of a fused q/k/v buffer).
 */
export async function foldLora(ctx: GpuContext, weight: Tensor, lora: PackedLora, into?: Tensor): Promise<Tensor> {
  const delta = await matmul(ctx, lora.up, lora.down, { label: 'lora-fold' });
  try {
    // A packed-f16 weight (no shader-f16) is rewritten as packed pairs: ops/weight-delta.ts.
    return await addWeightDelta(ctx, weight, delta, `${weight.buffer.label} + lora`, into);
  } finally {
    ctx.release(delta);
  }
}

/**
 * The low-rank term alone with per-column scales that may differ by row or by prompt:
 * ((x·Dᵀ) ⊙ scale)·Uᵀ, D [R, in], U [out, R] (unscaled), `scale` broadcast numpy-style against x·Dᵀ
 * [..., R]. Concept-aware regions (src/model/unet/forward.ts regionalAttentionModule) give each prompt,
 * or each cell, its own EWA weights this way: scale [P, 1, R] turns x [B, 1, T, in] into P prompts'
 * terms [B, P, T, out], with no per-prompt copy of W.
 */
export async function lowRankDelta(ctx: GpuContext, x: Tensor, down: Tensor, up: Tensor, scale: Tensor): Promise<Tensor> {
  const R = down.shape[0]!;
  if (up.shape[1] !== R || scale.shape[scale.shape.length - 1] !== R) {
    throw new RangeError(`low-rank term: down ${describe(down)}, up ${describe(up)} and scale ${describe(scale)} disagree on the rank ${R}`);
  }
  const t = await matmul(ctx, x, down, { transB: true, label: 'lowrank-down' });
  const s = await mul(ctx, t, scale, { label: 'lowrank-scale' });
  ctx.release(t);
  const y = await matmul(ctx, s, up, { transB: true, label: 'lowrank-up' });
  ctx.release(s);
  return y;
}

/** Plain-TS reference of the fused formula, f64 accumulation. x [M, in], W [out, in]. */
export function loraLinearReference(
  x: ArrayLike<number>, M: number, w: ArrayLike<number>, out: number, inF: number, bias: ArrayLike<number> | null,
  adapters: readonly { down: ArrayLike<number>; up: ArrayLike<number>; rank: number; scale: number }[],
): Float32Array {
  const y = new Float32Array(M * out);
  for (let m = 0; m < M; m++) {
    const ts = adapters.map((a) => {
      const t = new Float64Array(a.rank);
      for (let r = 0; r < a.rank; r++) for (let k = 0; k < inF; k++) t[r]! += x[m * inF + k]! * a.down[r * inF + k]!;
      return t;
    });
    for (let o = 0; o < out; o++) {
      let acc = bias ? bias[o]! : 0;
      for (let k = 0; k < inF; k++) acc += x[m * inF + k]! * w[o * inF + k]!;
      adapters.forEach((a, i) => {
        for (let r = 0; r < a.rank; r++) acc += a.scale * ts[i]![r]! * a.up[o * a.rank + r]!;
      });
      y[m * out + o] = acc;
    }
  }
  return y;
}
