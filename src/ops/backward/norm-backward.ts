/**
 * Backward of the normalisations in src/ops/norm.ts, for the training step (DESIGN.md, "Training"):
 *   groupNormBackward(x, dY, γ, β, {groups, eps, silu})  dx (+ dγ, dβ) of y = [silu](GroupNorm(x))
 *   layerNormBackward(x, dY, γ, {eps})                   dx (+ dγ, dβ) of y = LayerNorm(x)
 * Nothing of the forward is saved: the statistics are recomputed from x with the forward's stable
 * shifted sums (gradient checkpointing keeps only block inputs), and with SiLU z = GN(x) is recomputed.
 *   dx = (1/σ)(g − mean(g) − x̂·mean(g·x̂)),  g = dz·γ,  dz = dY (or dY·silu′(z))
 * dγ and dβ are only computed when asked (`paramGrads`): the UNet's and text encoders' norms are frozen
 * in concept training, and a frozen weight needs no gradient. They are f32 whatever x's dtype, since
 * they are sums over the batch and space that only an f32 optimizer would consume.
 *
 * GroupNorm runs like its forward, so a large group (SDXL: 10 channels × 128² = 163840 elements)
 * spreads over many workgroups: the forward's per-chunk statistics, a merge per group, per-chunk
 * partial sums of g and g·x̂, then dx per chunk (shaders/groupnorm_backward.wgsl). LayerNorm is one
 * workgroup per row (shaders/layernorm_backward.wgsl). Scratch tensors are released right after their
 * dispatches are recorded: work runs in recording order, and uploads submit pending work first.
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { ceilDiv, type KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { grid1d, MAX_GRID_X } from '../grid';
import { groupNormStatsKernel, type GroupNormOptions, type LayerNormOptions } from '../norm';
import gnSource from '../../../shaders/groupnorm_backward.wgsl?raw';
import lnSource from '../../../shaders/layernorm_backward.wgsl?raw';

/** Same workgroup and chunk sizes as the forward (src/ops/norm.ts): 64 elements per thread per chunk. */
const WG = 64;
const GN_CHUNK = WG * 64;

type GnStage = 'merge' | 'sums' | 'apply' | 'params';

export interface GroupNormBackwardVariant {
  dtype: DType;
  silu: boolean;
  stage: GnStage;
}

export const groupNormBackwardKernel: KernelDescriptor<GroupNormBackwardVariant> = {
  name: 'groupnorm-backward',
  source: gnSource,
  // merge does not depend on SiLU: one merge pipeline per dtype.
  defines: ({ dtype, silu, stage }) => ({ DTYPE: dtype, SILU: stage !== 'merge' && silu, STAGE: stage }),
  constants: () => ({ WG }),
};

export interface LayerNormBackwardVariant {
  dtype: DType;
  stage: 'rows' | 'params';
  /** rows stage: also store per-row statistics for the params stage. */
  params: boolean;
}

export const layerNormBackwardKernel: KernelDescriptor<LayerNormBackwardVariant> = {
  name: 'layernorm-backward',
  source: lnSource,
  defines: ({ dtype, stage, params }) => ({ DTYPE: dtype, STAGE: stage, PARAMS: stage === 'rows' && params }),
  constants: () => ({ WG }),
};

export type GroupNormBackwardConfig = Pick<GroupNormOptions, 'groups' | 'eps' | 'silu'>;
export type LayerNormBackwardConfig = Pick<LayerNormOptions, 'eps'>;

export interface NormBackwardOptions {
  /** Also return dγ and dβ (f32). Default false: frozen weights need no gradient. */
  paramGrads?: boolean;
  label?: string;
}

export interface NormGrads {
  /** dL/dx, x's shape and dtype. */
  dx: Tensor;
  /** dL/dγ, f32 [C] or [D]; only with paramGrads. */
  dgamma?: Tensor;
  /** dL/dβ, f32 [C] or [D]; only with paramGrads. */
  dbeta?: Tensor;
}

function checkOperands(ctx: GpuContext, label: string, x: Tensor, dY: Tensor, params: [string, Tensor, number][]): void {
  if (dY.dtype !== x.dtype || !sameShape(dY.shape, x.shape)) {
    throw new RangeError(`${label}: dY ${describe(dY)} must match x ${describe(x)}`);
  }
  for (const [name, t, len] of params) {
    if (t.dtype !== x.dtype || !sameShape(t.shape, [len])) throw new RangeError(`${label}: ${name} ${describe(t)} must be ${x.dtype}[${len}]`);
  }
  if (x.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
}

function paramTensors(ctx: GpuContext, label: string, n: number, want: boolean): Pick<NormGrads, 'dgamma' | 'dbeta'> {
  if (!want) return {};
  return { dgamma: ctx.empty([n], 'f32', `${label}-dgamma`), dbeta: ctx.empty([n], 'f32', `${label}-dbeta`) };
}

export async function groupNormBackward(
  ctx: GpuContext,
  x: Tensor,
  dY: Tensor,
  gamma: Tensor,
  beta: Tensor,
  config: GroupNormBackwardConfig,
  options: NormBackwardOptions = {},
): Promise<NormGrads> {
  const label = options.label ?? 'groupnorm-backward';
  if (x.shape.length < 2) throw new RangeError(`${label}: x must be [N, C, ...], got ${describe(x)}`);
  const [batch, channels] = x.shape as [number, number];
  const groups = config.groups;
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new RangeError(`${label}: ${channels} channels cannot be split into ${groups} groups`);
  }
  checkOperands(ctx, label, x, dY, [['gamma', gamma, channels], ['beta', beta, channels]]);
  const silu = config.silu ?? false;
  const eps = config.eps ?? 1e-5;
  const grads: NormGrads = { dx: ctx.empty(x.shape, x.dtype, `${label}-dx`), ...paramTensors(ctx, label, channels, options.paramGrads ?? false) };
  const hw = numel(x.shape.slice(2));
  const cg = channels / groups;
  const gsize = cg * hw;
  const ng = batch * groups;
  if (gsize === 0 || batch === 0) {
    for (const t of [grads.dgamma, grads.dbeta]) if (t) ctx.write(t, new Float32Array(channels));
    return grads;
  }
  const chunks = ceilDiv(gsize, GN_CHUNK);
  if (ng > MAX_GRID_X || chunks > MAX_GRID_X) {
    throw new RangeError(`${label}: ${ng} (batch × groups) × ${chunks} chunks exceeds ${MAX_GRID_X} workgroups per dimension`);
  }
  const kernel = (stage: GnStage) => ctx.kernel(groupNormBackwardKernel, { dtype: x.dtype, silu, stage });
  const [stats, merge, sums, apply, params] = await Promise.all([
    ctx.kernel(groupNormStatsKernel, { dtype: x.dtype, silu: false, subgroups: ctx.useSubgroups }),
    kernel('merge'),
    kernel('sums'),
    kernel('apply'),
    grads.dgamma ? kernel('params') : null,
  ]);
  const partial = ctx.empty([ng * chunks, 4], 'f32', `${label}-stats`);
  const gstat = ctx.empty([ng, 4], 'f32', `${label}-group-stats`);
  const part = ctx.empty([ng * chunks, 2], 'f32', `${label}-sums`);
  const shared = { hw, cg, gsize, groups, chunk: GN_CHUNK, chunks, eps };
  const uniforms = { ...shared, batch, channels };
  const inputs = [binding(x), binding(dY), binding(gamma), binding(beta), binding(gstat)];
  // the forward's stats entry on one whole tensor: its chunk row starts at 0 and holds `chunks` entries
  ctx.dispatch(stats, { uniforms: { ...shared, base: 0, stride: chunks }, bindings: [binding(x), binding(partial)], workgroups: [chunks, ng] });
  ctx.dispatch(merge, { uniforms, bindings: [binding(x), binding(partial), binding(gstat)], workgroups: [ng] });
  ctx.dispatch(sums, { uniforms, bindings: [...inputs, binding(part)], workgroups: [chunks, ng] });
  ctx.dispatch(apply, { uniforms, bindings: [...inputs, binding(part), binding(grads.dx)], workgroups: [chunks, ng] });
  if (params && grads.dgamma && grads.dbeta) {
    ctx.dispatch(params, { uniforms, bindings: [...inputs, binding(grads.dgamma), binding(grads.dbeta)], workgroups: [channels] });
  }
  ctx.release(partial, gstat, part);
  return grads;
}

export async function layerNormBackward(
  ctx: GpuContext,
  x: Tensor,
  dY: Tensor,
  gamma: Tensor,
  config: LayerNormBackwardConfig = {},
  options: NormBackwardOptions = {},
): Promise<NormGrads> {
  const label = options.label ?? 'layernorm-backward';
  if (x.shape.length < 1) throw new RangeError(`${label}: x must have a last axis, got ${describe(x)}`);
  const d = x.shape[x.shape.length - 1]!;
  checkOperands(ctx, label, x, dY, [['gamma', gamma, d]]);
  const wantParams = options.paramGrads ?? false;
  const grads: NormGrads = { dx: ctx.empty(x.shape, x.dtype, `${label}-dx`), ...paramTensors(ctx, label, d, wantParams) };
  const rows = numel(x.shape.slice(0, -1));
  if (d === 0) return grads;
  if (rows === 0) {
    for (const t of [grads.dgamma, grads.dbeta]) if (t) ctx.write(t, new Float32Array(d));
    return grads;
  }
  const uniforms = { d, rows, eps: config.eps ?? 1e-5 };
  const rowKernel = await ctx.kernel(layerNormBackwardKernel, { dtype: x.dtype, stage: 'rows', params: wantParams });
  const rowstat = wantParams ? ctx.empty([rows, 4], 'f32', `${label}-row-stats`) : null;
  ctx.dispatch(rowKernel, {
    uniforms,
    bindings: [binding(x), binding(dY), binding(gamma), binding(grads.dx), ...(rowstat ? [binding(rowstat)] : [])],
    workgroups: [Math.min(rows, MAX_GRID_X), ceilDiv(rows, MAX_GRID_X)],
  });
  if (rowstat && grads.dgamma && grads.dbeta) {
    const k = await ctx.kernel(layerNormBackwardKernel, { dtype: x.dtype, stage: 'params', params: true });
    ctx.dispatch(k, {
      uniforms,
      bindings: [binding(x), binding(dY), binding(rowstat), binding(grads.dgamma), binding(grads.dbeta)],
      workgroups: grid1d(d, WG),
    });
    ctx.release(rowstat);
  }
  return grads;
}
