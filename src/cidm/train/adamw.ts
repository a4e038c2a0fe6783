/**
 * AdamW on the GPU with torch.optim.AdamW's semantics (Loshchilov & Hutter 2019; torch 1.13
 * `_single_tensor_adamw`, amsgrad off, maximize off), one dispatch per parameter group over its flat
 * buffers (src/cidm/train/flat-params.ts). CIDM trains two groups (spec §1.6; golden README item 7):
 * the LoRA downs/ups at lr 1e-4 and the layer-wise concept tokens at lr 1e-3, betas (0.9, 0.999),
 * eps 1e-8, weight decay 0.01 on both.
 *
 * torch computes the per-step scalars in Python doubles and casts each to f32 where it meets a tensor:
 *   bias_correction1 = 1 − β1^t, bias_correction2 = 1 − β2^t, step_size = lr / bias_correction1,
 *   bias_correction2_sqrt = sqrt(bias_correction2); param.mul_(1 − lr·wd); …;
 *   denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps); param.addcdiv_(exp_avg, denom, value=−step_size)
 * `adamwScalars` does the same in f64 and rounds once, so a step matches torch to f32 rounding.
 */
import type { GpuContext } from '../../gpu/context';
import type { KernelDescriptor } from '../../gpu/kernel';
import { grid1d } from '../../ops/grid';
import type { FlatParams } from './flat-params';
import source from '../../../shaders/adamw.wgsl?raw';

const WG = 256;

export const adamwKernel: KernelDescriptor<Record<string, never>> = {
  name: 'adamw',
  source,
  defines: () => ({}),
  constants: () => ({ WG }),
};

export interface AdamWHyper {
  readonly betas: readonly [number, number];
  readonly eps: number;
}

/** torch.optim.AdamW's defaults for betas and eps (CIDM uses them). */
export const ADAMW_DEFAULTS: AdamWHyper = { betas: [0.9, 0.999], eps: 1e-8 };

export interface ParamGroup {
  readonly name: string;
  readonly params: FlatParams;
  /** The base learning rate (before the schedule). */
  readonly lr: number;
  readonly weightDecay: number;
}

/** The kernel's uniforms for step `step` (1-based, after the increment, as torch's state_steps). */
export interface AdamWScalars {
  decay: number;
  beta1: number;
  one_minus_beta1: number;
  beta2: number;
  one_minus_beta2: number;
  neg_step_size: number;
  bc2_sqrt: number;
  eps: number;
}

const f32 = Math.fround;

export function adamwScalars(hyper: AdamWHyper, lr: number, weightDecay: number, step: number): AdamWScalars {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`AdamW step ${step} must be a positive integer (1-based)`);
  const [beta1, beta2] = hyper.betas;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  return {
    decay: f32(1 - lr * weightDecay),
    beta1: f32(beta1),
    one_minus_beta1: f32(1 - beta1),
    beta2: f32(beta2),
    one_minus_beta2: f32(1 - beta2),
    neg_step_size: f32(-(lr / bc1)),
    bc2_sqrt: f32(Math.sqrt(bc2)),
    eps: f32(hyper.eps),
  };
}

export interface AdamWStepOptions {
  /** The learning rate of this step (the schedule applied); default the group's base lr. */
  lr?: number;
  /** The gradients are multiplied by 1/gradScale first (a loss scale still in them); default 1. */
  gradScale?: number;
  /** Elements per binding (a multiple of 64; default what maxStorageBufferBindingSize allows), for tests. */
  chunkElements?: number;
}

/**
 * Records one AdamW step of a group (`step` = this step's 1-based number). The flat buffers are cut into
 * bindings of at most maxStorageBufferBindingSize, each a multiple of 256 bytes, so any size works.
 */
export async function adamwStep(ctx: GpuContext, group: ParamGroup, hyper: AdamWHyper, step: number, o: AdamWStepOptions = {}): Promise<void> {
  const s = adamwScalars(hyper, o.lr ?? group.lr, group.weightDecay, step);
  const gradScale = o.gradScale ?? 1;
  if (!(gradScale > 0) || !Number.isFinite(gradScale)) throw new RangeError(`AdamW: gradScale ${gradScale} must be positive and finite`);
  const k = await ctx.kernel(adamwKernel, {});
  const fp = group.params;
  const total = fp.layout.size;
  const maxBytes = ctx.device.limits.maxStorageBufferBindingSize;
  const chunk = o.chunkElements ?? Math.floor(maxBytes / 4 / 64) * 64;
  if (!Number.isInteger(chunk) || chunk < 64 || chunk % 64 || chunk * 4 > maxBytes) throw new RangeError(`AdamW: ${chunk} elements per binding is not a multiple of 64 within the binding limit`);
  const slots = [fp.flat('param'), fp.flat('grad'), fp.flat('expAvg'), fp.flat('expAvgSq')];
  for (let start = 0; start < total; start += chunk) {
    const count = Math.min(chunk, total - start);
    ctx.dispatch(k, {
      uniforms: { count, ...s, inv_grad_scale: 1 / gradScale },
      bindings: slots.map((t) => ({ buffer: t.buffer, offset: t.offset + start * 4, size: count * 4 })),
      workgroups: grid1d(count, WG),
    });
  }
}

/**
 * The optimizer over several groups, with torch's per-parameter step counters (one per group here:
 * every tensor of a group steps together). `completed` is what a checkpoint stores.
 */
export class AdamW {
  readonly completed = new Map<string, number>();

  constructor(readonly groups: readonly ParamGroup[], readonly hyper: AdamWHyper = ADAMW_DEFAULTS) {
    const names = new Set(groups.map((g) => g.name));
    if (names.size !== groups.length) throw new RangeError('AdamW: parameter group names must be unique');
    for (const g of groups) this.completed.set(g.name, 0);
  }

  /**
   * One step of every group not in `skip` (e.g. the concept tokens once frozen, spec §1.4), with the
   * learning rate `lrOf(group)` (default: the base lr; pass the schedule's value).
   */
  async step(ctx: GpuContext, lrOf: (g: ParamGroup) => number = (g) => g.lr, o: { skip?: ReadonlySet<string>; gradScale?: number } = {}): Promise<void> {
    for (const g of this.groups) {
      if (o.skip?.has(g.name)) continue;
      const t = (this.completed.get(g.name) ?? 0) + 1;
      await adamwStep(ctx, g, this.hyper, t, { lr: lrOf(g), gradScale: o.gradScale });
      this.completed.set(g.name, t);
    }
  }
}
