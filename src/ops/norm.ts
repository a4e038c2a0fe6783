/**
 * Normalisations of the SDXL UNet, VAE and text encoders:
 *   groupNorm(x [N, C, ...spatial], γ [C], β [C], {groups, eps, silu})  torch.nn.GroupNorm (+ fused SiLU)
 *   layerNorm(x [..., D], γ [D], β [D], {eps})                         torch.nn.LayerNorm(D)
 * Statistics are f32 and stable (shifted sums per thread, Chan's pairwise merge; see the shaders).
 * Where the device has `subgroups` (ctx.useSubgroups), the merge runs as a butterfly of subgroup
 * shuffles and one barrier instead of two barriers and a workgroup-memory gather (issue 15 point 4);
 * the portable kernels remain the fallback, and both are tested on both CPU adapters.
 * f16 tensors mean f16 storage and need `shader-f16` (FeatureMissingError otherwise).
 *
 * GroupNorm is two dispatches (per-chunk statistics, then merge + normalise), so one large group is
 * spread over many workgroups. Its partial statistics live in one scratch buffer per context: ops run in
 * recording order, so each call's statistics are consumed before the next call overwrites them, and a
 * queue.writeBuffer upload can never land in that buffer (it never returns to the shared pool).
 *
 * groupNormBands normalises a tensor held as horizontal bands (one binding each: the VAE's banded
 * decode of images whose activations exceed a binding) with the statistics of the whole tensor, as
 * torch.nn.GroupNorm computes them over the full H·W: every band's stats dispatch writes its chunks
 * into one shared row per (n, group), then every band's apply merges the whole row.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { ceilDiv, type KernelDescriptor } from '../gpu/kernel';
import { binding, describe, numel, sameShape, type DType, type Tensor } from '../gpu/tensor';
import { MAX_GRID_X } from './grid';
import groupnormSource from '../../shaders/groupnorm.wgsl?raw';
import layernormSource from '../../shaders/layernorm.wgsl?raw';

/**
 * 64-thread workgroups and two-barrier reductions: CPU adapters pay per barrier per subgroup. Against
 * 256 threads × 16 elements with a tree, GroupNorm [2,320,64,64] went 927 → 192 ms on SwiftShader and
 * 76 → 36 ms on lavapipe; LayerNorm [2,1024,640] 368 → 183 ms and 31 → 17 ms.
 */
const GN_WG = 64;
/** Elements per GroupNorm workgroup; 64 per thread keeps each thread's shifted sums short. */
const GN_CHUNK = GN_WG * 64;
const LN_WG = 64;
/**
 * Rows at most this long take layernorm.wgsl's `rows` entry point, one invocation per row: sharing a
 * 32-wide row among 64 threads left half idle behind two barriers (the tiny test UNet's LayerNorms:
 * 22 → 1 ms for 512 rows of 32 on SwiftShader). No SDXL or SD-1.5 row is this short (≥ 320).
 */
export const LN_SHORT_ROW = 64;

export interface GroupNormVariant {
  dtype: DType;
  silu: boolean;
  /** The subgroup-shuffle merge of the statistics (ctx.useSubgroups); same math, fewer barriers. */
  subgroups: boolean;
}

const gnDefines = ({ dtype, silu, subgroups }: GroupNormVariant) => ({ DTYPE: dtype, SILU: silu, SUBGROUPS: subgroups });

export const groupNormStatsKernel: KernelDescriptor<GroupNormVariant> = {
  name: 'groupnorm-stats',
  source: groupnormSource,
  entryPoint: 'stats',
  // The statistics do not depend on the epilogue: one stats pipeline per dtype.
  defines: ({ dtype, subgroups }) => gnDefines({ dtype, silu: false, subgroups }),
  constants: () => ({ WG: GN_WG }),
};

export const groupNormApplyKernel: KernelDescriptor<GroupNormVariant> = {
  name: 'groupnorm-apply',
  source: groupnormSource,
  entryPoint: 'apply',
  defines: gnDefines,
  constants: () => ({ WG: GN_WG }),
};

export const layerNormKernel: KernelDescriptor<{ dtype: DType; subgroups: boolean }> = {
  name: 'layernorm',
  source: layernormSource,
  defines: ({ dtype, subgroups }) => ({ DTYPE: dtype, SUBGROUPS: subgroups }),
  constants: () => ({ WG: LN_WG }),
};

/** One invocation per row, for rows of at most LN_SHORT_ROW (no reduction, so no subgroup variant). */
export const layerNormRowsKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'layernorm-rows',
  source: layernormSource,
  entryPoint: 'rows',
  defines: ({ dtype }) => ({ DTYPE: dtype, SUBGROUPS: false }),
  constants: () => ({ WG: LN_WG }),
};

export interface GroupNormOptions {
  groups: number;
  /** Default 1e-5 (UNet ResnetBlock2D); the VAE and Transformer2DModel.norm use 1e-6. */
  eps?: number;
  /** Apply SiLU after the affine transform. */
  silu?: boolean;
  out?: Tensor;
  label?: string;
}

export interface LayerNormOptions {
  /** Default 1e-5. */
  eps?: number;
  out?: Tensor;
  label?: string;
}

function checkOperands(ctx: GpuContext, label: string, x: Tensor, params: [string, Tensor, number][], out?: Tensor): Tensor {
  for (const [name, t, len] of params) {
    if (t.dtype !== x.dtype) throw new RangeError(`${label}: ${name} is ${describe(t)} but x is ${x.dtype}`);
    if (!sameShape(t.shape, [len])) throw new RangeError(`${label}: ${name} ${describe(t)} must be [${len}]`);
  }
  if (x.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
  if (!out) return ctx.empty(x.shape, x.dtype, label);
  if (out.dtype !== x.dtype || !sameShape(out.shape, x.shape)) {
    throw new RangeError(`${label}: out ${describe(out)} must be ${describe(x)}`);
  }
  if (out.buffer === x.buffer && out.offset === x.offset) throw new RangeError(`${label}: out must not alias x`);
  return out;
}

const partials = new WeakMap<GpuContext, GPUBuffer>();

function partialBuffer(ctx: GpuContext, bytes: number): GPUBuffer {
  const have = partials.get(ctx);
  if (have && have.size >= bytes) return have;
  // The old buffer may still be bound by recorded work, so it is dropped (garbage-collected), not destroyed.
  const size = Math.max(4096, 2 ** Math.ceil(Math.log2(bytes)));
  const buffer = ctx.device.createBuffer({ label: 'groupnorm-partials', size, usage: GPUBufferUsage.STORAGE });
  partials.set(ctx, buffer);
  return buffer;
}

interface GroupNormBand {
  x: Tensor;
  out: Tensor;
  hw: number;
  chunks: number;
  base: number;
}

/** Checks x [N, C, ...] against γ, β and the groups; returns (batch, channels). */
function groupNormShape(label: string, x: Tensor, groups: number): [number, number] {
  if (x.shape.length < 2) throw new RangeError(`${label}: x must be [N, C, ...], got ${describe(x)}`);
  const [batch, c] = x.shape as [number, number];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new RangeError(`${label}: ${c} channels cannot be split into ${groups} groups`);
  }
  return [batch, c];
}

/** Records the stats and apply dispatches of bands that share one set of statistics per (n, group). */
async function dispatchGroupNorm(ctx: GpuContext, bands: GroupNormBand[], gamma: Tensor, beta: Tensor, batch: number, c: number, options: GroupNormOptions, label: string): Promise<void> {
  const groups = options.groups;
  const cg = c / groups;
  const ng = batch * groups;
  if (ng > MAX_GRID_X) throw new RangeError(`${label}: ${ng} (batch × groups) exceeds ${MAX_GRID_X} workgroups`);
  const stride = bands.reduce((s, b) => s + b.chunks, 0);
  const variant = { dtype: bands[0]!.x.dtype, silu: options.silu ?? false, subgroups: ctx.useSubgroups };
  const [stats, apply] = await Promise.all([ctx.kernel(groupNormStatsKernel, variant), ctx.kernel(groupNormApplyKernel, variant)]);
  // Sized once for all bands before any dispatch: a larger buffer later would strand the earlier partials.
  const part: GPUBufferBinding = { buffer: partialBuffer(ctx, ng * stride * 16), offset: 0, size: ng * stride * 16 };
  const uniformsOf = (b: GroupNormBand) => ({
    hw: b.hw, cg, gsize: cg * b.hw, groups, chunk: GN_CHUNK, chunks: b.chunks, eps: options.eps ?? 1e-5, base: b.base, stride,
  });
  for (const b of bands) ctx.dispatch(stats, { uniforms: uniformsOf(b), bindings: [binding(b.x), part], workgroups: [b.chunks, ng] });
  for (const b of bands) {
    ctx.dispatch(apply, {
      uniforms: uniformsOf(b),
      bindings: [binding(b.x), part, binding(gamma), binding(beta), binding(b.out)],
      workgroups: [b.chunks, ng],
    });
  }
}

export async function groupNorm(ctx: GpuContext, x: Tensor, gamma: Tensor, beta: Tensor, options: GroupNormOptions): Promise<Tensor> {
  const label = options.label ?? 'groupnorm';
  const [batch, c] = groupNormShape(label, x, options.groups);
  const out = checkOperands(ctx, label, x, [['gamma', gamma, c], ['beta', beta, c]], options.out);
  const hw = numel(x.shape.slice(2));
  if (numel(x.shape) === 0) return out;
  const chunks = ceilDiv((c / options.groups) * hw, GN_CHUNK);
  await dispatchGroupNorm(ctx, [{ x, out, hw, chunks, base: 0 }], gamma, beta, batch, c, options, label);
  return out;
}

/**
 * GroupNorm of one tensor [N, C, H, W] held as bands [N, C, h_i, W] (rows h_0 + h_1 + … = H, in any
 * order: the statistics are a sum): the statistics of all bands together normalise each band, so the
 * bands of the result are exactly the bands of groupNorm(whole) up to summation order. New outputs,
 * one per band; the inputs are not consumed.
 */
export async function groupNormBands(ctx: GpuContext, xs: readonly Tensor[], gamma: Tensor, beta: Tensor, options: Omit<GroupNormOptions, 'out'>): Promise<Tensor[]> {
  const label = options.label ?? 'groupnorm-bands';
  if (xs.length === 0) throw new RangeError(`${label}: no bands`);
  const [batch, c] = groupNormShape(label, xs[0]!, options.groups);
  let base = 0;
  const bands: GroupNormBand[] = xs.map((x) => {
    const [n, cx, , ...rest] = x.shape;
    if (x.shape.length !== xs[0]!.shape.length || n !== batch || cx !== c || rest.join() !== xs[0]!.shape.slice(3).join() || x.dtype !== xs[0]!.dtype) {
      throw new RangeError(`${label}: band ${describe(x)} is not a band of ${describe(xs[0]!)} (same N, C, width and dtype)`);
    }
    const hw = numel(x.shape.slice(2));
    if (hw === 0) throw new RangeError(`${label}: band ${describe(x)} is empty`);
    const chunks = ceilDiv((c / options.groups) * hw, GN_CHUNK);
    const band = { x, out: checkOperands(ctx, label, x, [['gamma', gamma, c], ['beta', beta, c]]), hw, chunks, base };
    base += chunks;
    return band;
  });
  await dispatchGroupNorm(ctx, bands, gamma, beta, batch, c, options, label);
  return bands.map((b) => b.out);
}

export async function layerNorm(ctx: GpuContext, x: Tensor, gamma: Tensor, beta: Tensor, options: LayerNormOptions = {}): Promise<Tensor> {
  const label = options.label ?? 'layernorm';
  if (x.shape.length < 1) throw new RangeError(`${label}: x must have a last axis, got ${describe(x)}`);
  const d = x.shape[x.shape.length - 1]!;
  const out = checkOperands(ctx, label, x, [['gamma', gamma, d], ['beta', beta, d]], options.out);
  const rows = numel(x.shape.slice(0, -1));
  if (rows === 0 || d === 0) return out;
  const uniforms = { d, rows, eps: options.eps ?? 1e-5 };
  const bindings = [binding(x), binding(gamma), binding(beta), binding(out)];
  if (d <= LN_SHORT_ROW) {
    const groups = ceilDiv(rows, LN_WG);
    const k = await ctx.kernel(layerNormRowsKernel, { dtype: x.dtype });
    ctx.dispatch(k, { uniforms, bindings, workgroups: [Math.min(groups, MAX_GRID_X), ceilDiv(groups, MAX_GRID_X)] });
    return out;
  }
  const k = await ctx.kernel(layerNormKernel, { dtype: x.dtype, subgroups: ctx.useSubgroups });
  ctx.dispatch(k, { uniforms, bindings, workgroups: [Math.min(rows, MAX_GRID_X), ceilDiv(rows, MAX_GRID_X)] });
  return out;
}
