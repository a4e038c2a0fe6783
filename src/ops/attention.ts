/**
 * attention(ctx, q, k, v, opts): fused multi-head attention, out = softmax(scale·Q·Kᵀ [+ causal]) · V,
 * on the layout diffusers has before its head split: q [B, Tq, H·D], k/v [B, Tk, H·D] with channel
 * c = head·D + d, and out [B, Tq, H·D] (heads merged), so no transposes are needed around it.
 *
 * Every operand may instead be a strided slice (AttentionSlice): a column offset and a row stride make
 * q/k/v views of a fused qkv tensor [B, T, 3·H·D], and explicit batch/head strides admit other layouts
 * ([B, H, T, D], per-region K/V). All strides are uniforms, so one pipeline serves every layout.
 * Structural variants (pipeline key): storage dtype, causal mask, head-dim blocks (NB, SPLIT) and key tile (BK).
 */
import type { GpuContext } from '../gpu/context';
import type { KernelDescriptor } from '../gpu/kernel';
import { FeatureMissingError } from '../gpu/errors';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import source from '../../shaders/attention.wgsl?raw';
import rows4Source from '../../shaders/attention_rows4.wgsl?raw';

/** Query rows per workgroup, for both kernels (64 invocations × 1 row, or 16 × 4 rows). */
export const ATTENTION_ROWS_PER_WORKGROUP = 64;
/** Largest head dim kept whole in registers (5 blocks of 16); larger ones take the SPLIT path (64-column chunks). */
const MAX_WHOLE_DIM = 80;
/** K+V tiles (and SPLIT's score buffer) stay within the 16 KiB of workgroup memory every WebGPU device has. */
const TILE_BYTES = 16384;

export interface AttentionVariant {
  dtype: DType;
  causal: boolean;
  /** 16-column register blocks per row (1..5). */
  nb: number;
  /** Keys per workgroup-memory tile (a multiple of 4). */
  bk: number;
  /** Head dim split into 64-column chunks, one per workgroup z. */
  split: boolean;
}

const blockDefines = (v: AttentionVariant) => ({
  DTYPE: v.dtype,
  NB: v.nb,
  BK: v.bk,
  B2: v.nb >= 2,
  B3: v.nb >= 3,
  B4: v.nb >= 4,
  B5: v.nb >= 5,
  CAUSAL: v.causal,
  SPLIT: v.split,
});

/** One query row per invocation, q and the accumulator in registers (GPUs). */
export const attentionKernel: KernelDescriptor<AttentionVariant> = {
  name: 'attention',
  source,
  defines: blockDefines,
  constants: () => ({ WG: ATTENTION_ROWS_PER_WORKGROUP }),
};

/** Four query rows per invocation as 4×4 matrix products (CPU adapters; D <= 64). */
export const attentionRows4Kernel: KernelDescriptor<AttentionVariant> = {
  name: 'attention-rows4',
  source: rows4Source,
  defines: blockDefines,
  constants: () => ({ WG: ATTENTION_ROWS_PER_WORKGROUP / 4 }),
};

/**
 * Whether the adapter is SwiftShader, where the 4-rows kernel is ~2.5× faster ([2,1024,640], D = 64):
 * there a dynamically indexed read is a per-lane gather and every SPIR-V instruction goes through
 * memory, so reuse in registers and big matrix instructions are what count. lavapipe runs it faster
 * too, but compiles each of its variants in 10-40 s (512 live floats per invocation), so not there.
 */
export function prefersRows4(ctx: GpuContext): boolean {
  const s = ctx.handle.summary;
  return /swiftshader/i.test(`${s.vendor} ${s.architecture} ${s.device} ${s.description}`);
}

/**
 * How a head dim is tiled: `nb` register blocks of 16 columns per chunk, `chunks` chunks of 64 columns
 * (1 when D <= 80), `bk` keys per tile (a multiple of 4, at most 32) so that the tiles fit in 16 KiB.
 */
export function planAttention(headDim: number): { nb: number; bk: number; chunks: number } {
  const chunks = headDim <= MAX_WHOLE_DIM ? 1 : Math.ceil(headDim / 64);
  const nb = chunks === 1 ? Math.ceil(headDim / 16) : 4;
  const bytes = (bk: number) => 2 * bk * nb * 64 + (chunks > 1 ? bk * ATTENTION_ROWS_PER_WORKGROUP * 4 : 0);
  let bk = 32;
  while (bk > 4 && bytes(bk) > TILE_BYTES) bk -= 4;
  return { nb, bk, chunks };
}

/** Where element (b, h, t, d) of an operand lives: offset + b·batchStride + h·headStride + t·tokenStride + d. */
export interface StridedView {
  offset: number;
  batchStride: number;
  headStride: number;
  tokenStride: number;
}

/** A strided slice of a tensor used as q, k, v or out. Defaults fit a [B, T, C] tensor. */
export interface AttentionSlice {
  tensor: Tensor;
  /** Element offset of (head 0, d 0) within a row, e.g. H·D for k in a fused [B, T, 3·H·D] qkv. Default 0. */
  colOffset?: number;
  /** Elements from one token to the next. Default: the tensor's last dimension. */
  rowStride?: number;
  /** Tokens. Default: shape[1] of a [B, T, C] tensor. */
  tokens?: number;
  /** Elements from one batch item to the next. Default: tokens · rowStride. */
  batchStride?: number;
  /** Elements from one head to the next. Default: the head dim. */
  headStride?: number;
}

export type AttentionOperand = Tensor | AttentionSlice;

export interface AttentionOptions {
  heads: number;
  /** Default: q's channels (last dim) / heads, for a plain [B, T, H·D] q. */
  headDim?: number;
  /** Softmax scale; default 1/sqrt(headDim). */
  scale?: number;
  /** Causal (top-left aligned) mask, as the CLIP text encoders use. */
  causal?: boolean;
  /** Where to write; default a new [B, Tq, H·D] tensor. */
  out?: AttentionOperand;
  /** Query rows per invocation: 1 (GPUs) or 4 (CPU adapters; D <= 64). Default: by adapter, see prefersRows4. */
  rowsPerInvocation?: 1 | 4;
  label?: string;
}

/** Problem size shared by the op and its reference. */
export interface AttentionProblem {
  batch: number;
  heads: number;
  tq: number;
  tk: number;
  headDim: number;
  scale: number;
  causal: boolean;
}

function asSlice(x: AttentionOperand): AttentionSlice {
  return 'buffer' in x ? { tensor: x } : x;
}

/** Resolves a slice's strides and token count, with the [B, T, C] defaults. */
export function resolveView(x: AttentionOperand, headDim: number): StridedView & { tokens: number; batch: number } {
  const s = asSlice(x);
  const shape = s.tensor.shape;
  const rowStride = s.rowStride ?? shape[shape.length - 1] ?? 1;
  const tokens = s.tokens ?? (shape.length === 3 ? shape[1]! : NaN);
  if (!Number.isInteger(tokens) || tokens < 1) {
    throw new RangeError(`attention: cannot tell the token count of a [${shape.join(', ')}] operand; give tokens`);
  }
  return {
    offset: s.colOffset ?? 0,
    tokenStride: rowStride,
    batchStride: s.batchStride ?? tokens * rowStride,
    headStride: s.headStride ?? headDim,
    tokens,
    batch: shape[0] ?? 1,
  };
}

function checkBounds(name: string, t: Tensor, v: StridedView, p: AttentionProblem, tokens: number): void {
  const last = v.offset + (p.batch - 1) * v.batchStride + (p.heads - 1) * v.headStride + (tokens - 1) * v.tokenStride + p.headDim - 1;
  for (const [k, x] of Object.entries(v)) {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError(`attention: ${name}.${k} = ${x} is not a u32`);
  }
  if (last >= numel(t.shape)) {
    throw new RangeError(`attention: ${name} reaches element ${last} but its tensor [${t.shape.join(', ')}] has ${numel(t.shape)}`);
  }
}

export async function attention(
  ctx: GpuContext,
  q: AttentionOperand,
  k: AttentionOperand,
  v: AttentionOperand,
  opts: AttentionOptions,
): Promise<Tensor> {
  const [qs, ks, vs] = [asSlice(q), asSlice(k), asSlice(v)];
  const dtype = qs.tensor.dtype;
  if (ks.tensor.dtype !== dtype || vs.tensor.dtype !== dtype) {
    throw new TypeError(`attention: q/k/v dtypes differ (${dtype}, ${ks.tensor.dtype}, ${vs.tensor.dtype})`);
  }
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'f16 attention');
  const heads = opts.heads;
  if (opts.headDim === undefined && !('buffer' in q)) throw new RangeError('attention: give headDim when q is a slice');
  const headDim = opts.headDim ?? (qs.tensor.shape[qs.tensor.shape.length - 1] ?? 0) / heads;
  if (!Number.isInteger(heads) || heads < 1 || !Number.isInteger(headDim) || headDim < 1) {
    throw new RangeError(`attention: bad heads=${heads} / headDim=${headDim}`);
  }
  const qv = resolveView(qs, headDim);
  const kv = resolveView(ks, headDim);
  const vv = resolveView(vs, headDim);
  if (kv.tokens !== vv.tokens) throw new RangeError(`attention: k has ${kv.tokens} tokens, v has ${vv.tokens}`);
  if (kv.batch !== qv.batch || vv.batch !== qv.batch) throw new RangeError('attention: q/k/v batch sizes differ');
  const p: AttentionProblem = {
    batch: qv.batch,
    heads,
    tq: qv.tokens,
    tk: kv.tokens,
    headDim,
    scale: opts.scale ?? 1 / Math.sqrt(headDim),
    causal: opts.causal ?? false,
  };
  checkBounds('q', qs.tensor, qv, p, p.tq);
  checkBounds('k', ks.tensor, kv, p, p.tk);
  checkBounds('v', vs.tensor, vv, p, p.tk);
  const rows4 = opts.rowsPerInvocation === 4 || (opts.rowsPerInvocation === undefined && headDim <= 64 && prefersRows4(ctx));
  if (rows4 && headDim > 64) throw new RangeError(`attention: rowsPerInvocation 4 needs headDim <= 64, got ${headDim}`);
  let os: AttentionSlice;
  let ov: ReturnType<typeof resolveView>;
  if (opts.out) {
    os = asSlice(opts.out);
    if (os.tensor.dtype !== dtype) throw new TypeError(`attention: out is ${os.tensor.dtype}, inputs are ${dtype}`);
    if ([qs, ks, vs].some((x) => x.tensor.buffer === os.tensor.buffer)) {
      throw new RangeError('attention: out must not share a buffer with q, k or v');
    }
    ov = resolveView(os, headDim);
    if (ov.tokens !== p.tq) throw new RangeError(`attention: out has ${ov.tokens} tokens, q has ${p.tq}`);
    checkBounds('out', os.tensor, ov, p, p.tq);
  } else {
    os = { tensor: ctx.empty([p.batch, p.tq, heads * headDim], dtype, opts.label ?? 'attention-out') };
    ov = resolveView(os, headDim);
  }

  const plan = planAttention(headDim);
  const variant = { dtype, causal: p.causal, nb: plan.nb, bk: plan.bk, split: plan.chunks > 1 };
  const kernel = await ctx.kernel(rows4 ? attentionRows4Kernel : attentionKernel, variant);
  const u = (pre: string, x: StridedView) => ({
    [`${pre}_off`]: x.offset,
    [`${pre}_b`]: x.batchStride,
    [`${pre}_h`]: x.headStride,
    [`${pre}_t`]: x.tokenStride,
  });
  ctx.dispatch(kernel, {
    uniforms: {
      heads,
      tq: p.tq,
      tk: p.tk,
      dim: headDim,
      chunks: plan.chunks,
      scale: p.scale * Math.LOG2E,
      ...u('q', qv),
      ...u('k', kv),
      ...u('v', vv),
      ...u('o', ov),
    },
    // q, k and v may share one buffer (read-only bindings may alias).
    bindings: [binding(qs.tensor), binding(ks.tensor), binding(vs.tensor), binding(os.tensor)],
    workgroups: [Math.ceil(p.tq / ATTENTION_ROWS_PER_WORKGROUP), p.batch * heads, plan.chunks],
  });
  return os.tensor;
}
