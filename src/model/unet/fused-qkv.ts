/**
 * Self-attention's three input projections as one matmul (issue 15 point 3). In every attn1,
 * to_q, to_k and to_v all read the same x, so q‖k‖v = x·[W_q; W_k; W_v]ᵀ: one [3C, C] matmul whose
 * [B, T, 3C] output the attention kernel reads as three strided slices (ops/attention.ts
 * AttentionSlice), instead of three [C, C] matmuls.
 *
 * No weight is copied: the loader puts to_q, to_k and to_v back to back in one buffer and hands out the
 * three as views (Tensor.offset), so the fused [3C, C] weight is the same memory. Every other reader
 * (training, the LoRA and EWA folds, the fused-LoRA path) still sees three ordinary [C, C] weights,
 * which is why each view must be bindable alone: its byte offset must be a multiple of the device's
 * minStorageBufferOffsetAlignment. Where C·C·bytes is not, the layer is stored as three buffers and
 * runs unfused. Packed f16 weights (no shader-f16) are row-major f16 pairs in u32 words, so the
 * concatenation is the same packed layout; the alignment also keeps each view on a whole word.
 *
 * A fold that gives to_q a new tensor (ops/lora.ts foldLora, cidm/ewa/fold.ts) breaks the adjacency,
 * so `fusedQkvWeight` finds no fused weight for that layer and the forward takes the three matmuls.
 */
import type { GpuContext } from '../../gpu/context';
import { BYTES_PER_ELEMENT, numel, sameShape, type DType, type Tensor } from '../../gpu/tensor';
import type { UNetArch } from './arch';

/** The projections in their order in the fused weight (rows [0, C), [C, 2C), [2C, 3C)). */
export const QKV_PROJECTIONS = ['to_q', 'to_k', 'to_v'] as const;

/** The default (and largest allowed) minStorageBufferOffsetAlignment in WebGPU; the planner's value. */
export const DEFAULT_STORAGE_OFFSET_ALIGNMENT = 256;

/** The weight names of one attention module's q, k and v projections. */
export function qkvWeightNames(attnPrefix: string): [string, string, string] {
  return QKV_PROJECTIONS.map((p) => `${attnPrefix}.${p}.weight`) as [string, string, string];
}

/** Every self-attention (attn1) module of the architecture, by prefix. */
export function selfAttentionPrefixes(arch: UNetArch): string[] {
  const transformers = [...arch.down.flatMap((b) => b.attentions), ...(arch.mid.attention ? [arch.mid.attention] : []), ...arch.up.flatMap((b) => b.attentions)];
  return transformers.flatMap((t) => Array.from({ length: t.depth }, (_, d) => `${t.prefix}.transformer_blocks.${d}.attn1`));
}

/** The per-binding limit every WebGPU device guarantees (maxStorageBufferBindingSize's default); the planner's value. */
export const DEFAULT_MAX_BINDING_BYTES = 128 * 2 ** 20;

/** The two device limits the fused layout must respect. */
export interface QkvLimits {
  /** minStorageBufferOffsetAlignment: k and v start at multiples of it, so each can be bound alone. */
  alignment: number;
  /** maxStorageBufferBindingSize: the fused [3C, C] is bound whole. */
  maxBinding: number;
}

export const DEFAULT_QKV_LIMITS: QkvLimits = { alignment: DEFAULT_STORAGE_OFFSET_ALIGNMENT, maxBinding: DEFAULT_MAX_BINDING_BYTES };

export function qkvLimits(ctx: GpuContext): QkvLimits {
  const l = ctx.device.limits;
  return { alignment: l.minStorageBufferOffsetAlignment, maxBinding: l.maxStorageBufferBindingSize };
}

/**
 * Whether q/k/v weights of this shape and storage dtype can share one buffer: all three 2-D and of one
 * shape, each one's byte size a multiple of the offset alignment (so k and v can be bound alone), and
 * the three together within one binding.
 */
export function canFuseQkv(shapes: readonly (readonly number[] | undefined)[], storage: DType, limits: QkvLimits): boolean {
  const [q, k, v] = shapes;
  if (!q || !k || !v || q.length !== 2 || !sameShape(q, k) || !sameShape(q, v)) return false;
  const bytes = numel(q) * BYTES_PER_ELEMENT[storage];
  return bytes % limits.alignment === 0 && 3 * bytes <= limits.maxBinding;
}

/**
 * Allocates every weight of `shapes` as a persistent tensor, each self-attention's q/k/v (where
 * canFuseQkv allows) as three views of one [3C, C] buffer. `storage` gives each weight's storage dtype.
 */
export function allocateUNetWeights(
  ctx: GpuContext,
  arch: UNetArch,
  shapes: ReadonlyMap<string, readonly number[]>,
  storage: (shape: readonly number[]) => DType,
  o: { fuseQkv?: boolean } = {},
): Map<string, Tensor> {
  return allocateWeightsFusingQkv(ctx, shapes, storage, (o.fuseQkv ?? true) ? selfAttentionPrefixes(arch) : []);
}

/** allocateUNetWeights for explicit attention prefixes (their q/k/v all read the same input). */
export function allocateWeightsFusingQkv(
  ctx: GpuContext,
  shapes: ReadonlyMap<string, readonly number[]>,
  storage: (shape: readonly number[]) => DType,
  attnPrefixes: readonly string[],
): Map<string, Tensor> {
  const views = new Map<string, Tensor>();
  const limits = qkvLimits(ctx);
  const weights = new Map<string, Tensor>();
  try {
    for (const prefix of attnPrefixes) {
      const names = qkvWeightNames(prefix);
      const s = names.map((n) => shapes.get(n));
      const dtype = storage(s[0] ?? []);
      if (!canFuseQkv(s, dtype, limits)) continue;
      const [rows, cols] = s[0] as [number, number];
      const fused = ctx.persistentWeight([3 * rows, cols], dtype, `${prefix}.to_qkv.weight`);
      const bytes = rows * cols * BYTES_PER_ELEMENT[dtype];
      names.forEach((n, i) => views.set(n, { shape: [rows, cols], dtype, buffer: fused.buffer, offset: i * bytes }));
    }
    for (const [name, shape] of shapes) weights.set(name, views.get(name) ?? ctx.persistentWeight(shape, storage(shape), name));
  } catch (err) {
    destroyWeights(ctx, [...views.values(), ...weights.values()]);
    throw err;
  }
  return weights;
}

/** The bytes of GPU memory the weights hold: each buffer once, however many views it has. */
export function weightBufferBytes(weights: Iterable<Tensor>): number {
  let bytes = 0;
  for (const b of new Set(Array.from(weights, (t) => t.buffer))) bytes += b.size;
  return bytes;
}

/** Destroys each weight buffer once (views share one). */
export function destroyWeights(ctx: GpuContext, weights: Iterable<Tensor>): void {
  const seen = new Set<GPUBuffer>();
  for (const t of weights) {
    if (seen.has(t.buffer)) continue;
    seen.add(t.buffer);
    ctx.destroyTensor(t);
  }
}

/**
 * The fused [3C, C] weight of q, k and v when they are adjacent views of one buffer in that order (as
 * allocateUNetWeights lays them out), else null: separate buffers, a folded replacement, another order.
 */
export function fusedQkvWeight(q: Tensor, k: Tensor, v: Tensor): Tensor | null {
  if (q.buffer !== k.buffer || q.buffer !== v.buffer || q.shape.length !== 2) return null;
  if (q.dtype !== k.dtype || q.dtype !== v.dtype || !sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) return null;
  const bytes = numel(q.shape) * BYTES_PER_ELEMENT[q.dtype];
  if (k.offset !== q.offset + bytes || v.offset !== q.offset + 2 * bytes) return null;
  return { shape: [3 * q.shape[0]!, q.shape[1]!], dtype: q.dtype, buffer: q.buffer, offset: q.offset };
}

/**
 * A new buffer laid out like the fused q/k/v of `attnPrefix` in `weights` (three adjacent views), for a
 * fold that rewrites all three (engine-lora.ts): W'_q, W'_k, W'_v written into these views stay one
 * matmul, in the memory three separate folded tensors would take. Null when the base is not fused.
 */
export function allocateFusedQkvLike(ctx: GpuContext, weights: ReadonlyMap<string, Tensor>, attnPrefix: string, label: string): Map<string, Tensor> | null {
  const names = qkvWeightNames(attnPrefix);
  const [q, k, v] = names.map((n) => weights.get(n));
  const base = q && k && v ? fusedQkvWeight(q, k, v) : null;
  if (!base) return null;
  const fused = ctx.persistentWeight(base.shape, base.dtype, label);
  const bytes = numel(q!.shape) * BYTES_PER_ELEMENT[base.dtype];
  return new Map(names.map((n, i) => [n, { shape: [...q!.shape], dtype: base.dtype, buffer: fused.buffer, offset: i * bytes }] as const));
}
