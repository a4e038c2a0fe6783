/**
 * Backward of fused multi-head attention (src/ops/attention.ts), FlashAttention-2 style (Dao 2023,
 * Alg. 2), on the forward's plain layout: q, out, dOut [B, Tq, H·D], k, v [B, Tk, H·D].
 *
 *   attentionForwardWithStats(q, k, v)  out (the forward itself, untouched) + lse [B, H, Tq] (f32): the
 *       log-sum-exp of each query row's scaled, masked scores, from a small extra pass ('lse' below).
 *       A separate pass keeps the tuned forward (its GPU and CPU-adapter kernels) exactly as it is; it
 *       costs one Q·Kᵀ without P·V, about half a forward, and only in training.
 *   attentionBackward({q, k, v, out, dOut, lse})  dq, dk, dv in the inputs' dtype (f32 accumulation).
 *
 * The scores are recomputed in tiles from q, k and lse (P = exp(S − lse)); no T×T matrix is stored.
 * WGSL has no float atomics, so every gradient row has one owner (shaders/attention_backward.wgsl):
 * a pass over query rows gives dq and D = rowsum(dO∘O), then a pass over key rows gives dk and another
 * dv. Passes run in recording order, so the dk pass reads the D the dq pass wrote. Cost in T²·D matrix
 * products: lse 1, dq 3 (S, dP, dS·K), dk 3, dv 2 (S, Pᵀ·dO), against FlashAttention-2's 5 with atomics:
 * the price of at most three register row-vectors per invocation (see the shader header).
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { ceilDiv, type KernelDescriptor } from '../../gpu/kernel';
import type { CompiledKernel } from '../../gpu/pipeline-cache';
import { binding, describe, type DType, type Tensor } from '../../gpu/tensor';
import { attention } from '../attention';
import { MAX_GRID_X } from '../grid';
import source from '../../../shaders/attention_backward.wgsl?raw';

/** Rows (queries or keys) per workgroup, one per invocation. */
export const ATTENTION_BACKWARD_ROWS = 64;
/** Largest head dim kept whole in registers (4 blocks of 16 columns); larger ones are cut into chunks. */
const MAX_WHOLE_DIM = 64;
/** Workgroup memory every WebGPU device has: the tiles (and SPLIT's score buffers) stay within it. */
const TILE_BYTES = 16384;

/** lse: row statistics; dq/dk/dv: the gradient a pass computes (see the shader header). */
export type AttentionBackwardTarget = 'lse' | 'dq' | 'dk' | 'dv';

export interface AttentionBackwardVariant {
  dtype: DType;
  causal: boolean;
  target: AttentionBackwardTarget;
  /** 16-column register blocks per chunk (1..4). */
  nb: number;
  /** Rows per workgroup-memory tile. */
  bk: number;
  /** Head dim cut into chunks (D > 64). */
  split: boolean;
}

export const attentionBackwardKernel: KernelDescriptor<AttentionBackwardVariant> = {
  name: 'attention-backward',
  source,
  defines: (v) => ({
    DTYPE: v.dtype,
    NB: v.nb,
    BK: v.bk,
    TARGET: v.target,
    B2: v.nb >= 2,
    B3: v.nb >= 3,
    B4: v.nb >= 4,
    CAUSAL: v.causal,
    SPLIT: v.split,
    Q_ROWS: v.target === 'lse' || v.target === 'dq',
    X2: v.target === 'dq' || v.target === 'dk',
    Y2: v.target !== 'lse',
    ACC: v.target !== 'lse',
  }),
  constants: () => ({ WG: ATTENTION_BACKWARD_ROWS }),
};

/**
 * How a head dim is tiled for a pass: `chunks` column chunks (1 when D <= 64) of `nb` 16-column blocks,
 * and `bk` rows per tile (a multiple of 4, at most 32) so that the workgroup memory fits in 16 KiB.
 */
export function planAttentionBackward(headDim: number, target: AttentionBackwardTarget): { nb: number; bk: number; chunks: number } {
  const chunks = Math.ceil(headDim / MAX_WHOLE_DIM);
  const nb = Math.ceil(Math.ceil(headDim / chunks) / 16);
  const x2 = target === 'dq' || target === 'dk';
  const tiles = target === 'lse' ? 1 : 2;
  const bytes = (bk: number) =>
    bk * (tiles * nb * 64 + (chunks > 1 ? (x2 ? 2 : 1) * ATTENTION_BACKWARD_ROWS * 4 : 0) + (target === 'dk' || target === 'dv' ? 8 : 0));
  let bk = 32;
  while (bk > 4 && bytes(bk) > TILE_BYTES) bk -= 4;
  return { nb, bk, chunks };
}

export interface AttentionBackwardOptions {
  heads: number;
  /** Top-left aligned causal mask (key j visible to query i iff j <= i), as the forward's. */
  causal?: boolean;
  /** Softmax scale; default 1/sqrt(headDim). */
  scale?: number;
  label?: string;
}

export interface AttentionBackwardInputs {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** The forward's output. */
  out: Tensor;
  /** dL/d out. */
  dOut: Tensor;
  /** From attentionForwardWithStats: f32 [B, H, Tq]. */
  lse: Tensor;
}

interface Problem {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  headDim: number;
  scale: number;
  causal: boolean;
  dtype: DType;
}

const shapeIs = (t: Tensor, s: number[]) => t.shape.length === s.length && t.shape.every((d, i) => d === s[i]);

/** Checks q [B,Tq,H·D], k/v [B,Tk,H·D] (one dtype, f16 only with shader-f16) and returns the problem. */
function problemOf(ctx: GpuContext, q: Tensor, k: Tensor, v: Tensor, opts: AttentionBackwardOptions, op: string): Problem {
  const { heads } = opts;
  if (q.shape.length !== 3) throw new RangeError(`${op}: q must be [B, Tq, H·D], got ${describe(q)}`);
  const [batch, tq, channels] = q.shape as [number, number, number];
  const headDim = channels / heads;
  if (!Number.isInteger(heads) || heads < 1 || !Number.isInteger(headDim) || headDim < 1) {
    throw new RangeError(`${op}: ${channels} channels do not split into ${heads} heads`);
  }
  const tk = k.shape[1] ?? 0;
  for (const [name, t] of [['k', k], ['v', v]] as const) {
    if (!shapeIs(t, [batch, tk, channels]) || tk < 1) throw new RangeError(`${op}: ${name} is ${describe(t)}, q is ${describe(q)}`);
  }
  for (const t of [k, v]) if (t.dtype !== q.dtype) throw new TypeError(`${op}: q/k/v dtypes differ`);
  if (q.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `f16 ${op}`);
  if (ceilDiv(Math.max(tq, tk), ATTENTION_BACKWARD_ROWS) > MAX_GRID_X || batch * heads > MAX_GRID_X) {
    throw new RangeError(`${op}: ${batch}×${heads} heads of ${Math.max(tq, tk)} tokens exceed the workgroup grid`);
  }
  return { batch, heads, tq, tk, headDim, scale: opts.scale ?? 1 / Math.sqrt(headDim), causal: opts.causal ?? false, dtype: q.dtype };
}

interface Pass {
  target: AttentionBackwardTarget;
  kernel: CompiledKernel;
  chunks: number;
}

/** Compiles (once) the pipeline of a pass; the backward asks for its three together, so compiles overlap. */
async function preparePass(ctx: GpuContext, p: Problem, target: AttentionBackwardTarget): Promise<Pass> {
  const plan = planAttentionBackward(p.headDim, target);
  const variant = { dtype: p.dtype, causal: p.causal, target, nb: plan.nb, bk: plan.bk, split: plan.chunks > 1 };
  return { target, kernel: await ctx.kernel(attentionBackwardKernel, variant), chunks: plan.chunks };
}

/** Records one pass over rows of q (lse, dq) or of k (dk, dv); `bindings` in the shader's order. */
function dispatchPass(ctx: GpuContext, p: Problem, { target, kernel, chunks }: Pass, bindings: Tensor[]): void {
  const qRows = target === 'lse' || target === 'dq';
  const [nx, ny] = qRows ? [p.tq, p.tk] : [p.tk, p.tq];
  ctx.dispatch(kernel, {
    uniforms: {
      heads: p.heads,
      nx,
      ny,
      tq: p.tq,
      dim: p.headDim,
      cdim: p.heads * p.headDim,
      chunks,
      scale2: p.scale * Math.LOG2E,
      oscale: target === 'dv' ? 1 : p.scale,
    },
    bindings: bindings.map(binding),
    // SPLIT: workgroup z owns one output column chunk (the lse pass has no output columns).
    workgroups: [ceilDiv(nx, ATTENTION_BACKWARD_ROWS), p.batch * p.heads, target === 'lse' ? 1 : chunks],
  });
}

/** The forward (src/ops/attention.ts) plus each query row's log-sum-exp, f32 [B, H, Tq]. */
export async function attentionForwardWithStats(
  ctx: GpuContext,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionBackwardOptions,
): Promise<{ out: Tensor; lse: Tensor }> {
  const p = problemOf(ctx, q, k, v, opts, 'attentionForwardWithStats');
  const label = opts.label ?? 'attention';
  const out = await attention(ctx, q, k, v, { heads: p.heads, scale: p.scale, causal: p.causal, label: `${label}-out` });
  const lse = ctx.empty([p.batch, p.heads, p.tq], 'f32', `${label}-lse`);
  dispatchPass(ctx, p, await preparePass(ctx, p, 'lse'), [q, k, lse]);
  return { out, lse };
}

/** dq [B, Tq, H·D], dk and dv [B, Tk, H·D] of attention(q, k, v), in q's dtype. */
export async function attentionBackward(
  ctx: GpuContext,
  inputs: AttentionBackwardInputs,
  opts: AttentionBackwardOptions,
): Promise<{ dq: Tensor; dk: Tensor; dv: Tensor }> {
  const { q, k, v, out, dOut, lse } = inputs;
  const p = problemOf(ctx, q, k, v, opts, 'attentionBackward');
  for (const [name, t] of [['out', out], ['dOut', dOut]] as const) {
    if (!shapeIs(t, [...q.shape]) || t.dtype !== q.dtype) throw new RangeError(`attentionBackward: ${name} is ${describe(t)}, q is ${describe(q)}`);
  }
  if (!shapeIs(lse, [p.batch, p.heads, p.tq]) || lse.dtype !== 'f32') {
    throw new RangeError(`attentionBackward: lse must be f32 [${p.batch}, ${p.heads}, ${p.tq}], got ${describe(lse)}`);
  }
  const [dqPass, dkPass, dvPass] = await Promise.all((['dq', 'dk', 'dv'] as const).map((t) => preparePass(ctx, p, t)));
  const label = opts.label ?? 'attention';
  const dq = ctx.empty(q.shape, p.dtype, `${label}-dq`);
  const dk = ctx.empty(k.shape, p.dtype, `${label}-dk`);
  const dv = ctx.empty(v.shape, p.dtype, `${label}-dv`);
  const dsum = ctx.empty([p.batch, p.heads, p.tq], 'f32', `${label}-rowsum-dO-O`);
  dispatchPass(ctx, p, dqPass!, [q, k, v, lse, dq, dOut, out, dsum]);
  dispatchPass(ctx, p, dkPass!, [k, q, dOut, lse, dk, v, dsum]);
  dispatchPass(ctx, p, dvPass!, [k, q, dOut, lse, dv]);
  // Work runs in recording order and uploads submit pending work first, so the scratch can go now.
  ctx.release(dsum);
  return { dq, dk, dv };
}
