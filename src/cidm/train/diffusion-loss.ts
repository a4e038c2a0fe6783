/**
 * The diffusion (ε-prediction) loss of a training step and its gradient with respect to the UNet's
 * prediction, on the GPU (spec §1.6; golden-training README item 6):
 *   epsMse:       L = mean((pred − noise)²)                                          (F.mse_loss)
 *   maskedEpsMse: L = mean_b [ Σ_{c,h,w} mask·(pred − noise)² / Σ_{h,w} mask ]        (CIDM's code)
 * The mask is [B, 1, H, W], broadcast over the channels, and its sum counts pixels once, so the masked
 * loss is C× the mean squared error over the masked elements, exactly as the reference.
 *
 * The mask is made on the CPU (canvas paste + resize, spec §1.6), so its per-sample sums are taken
 * there (`prepareLossMask`): an empty mask throws EmptyMaskError before any GPU work, and the kernel
 * gets 1/(B·Σ mask_b) per sample. The loss value is a deterministic f32 reduction (src/ops/reduce.ts);
 * the gradient comes back in the prediction's dtype (or `gradDtype`), multiplied by `gradScale`.
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import type { KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { grid1d } from '../../ops/grid';
import { sumAll } from '../../ops/reduce';
import { EmptyMaskError } from './errors';
import source from '../../../shaders/eps_mse.wgsl?raw';

const WG = 256;

interface Variant {
  pred: DType;
  target: DType;
  grad: DType;
  masked: boolean;
}

export const epsMseKernel: KernelDescriptor<Variant> = {
  name: 'eps-mse',
  source,
  defines: (v) => ({
    PRED_T: v.pred,
    TGT_T: v.target,
    GRAD_T: v.grad,
    F16: v.pred === 'f16' || v.target === 'f16' || v.grad === 'f16',
    MASKED: v.masked,
    GRAD_BINDING: v.masked ? 5 : 3,
    TERMS_BINDING: v.masked ? 6 : 4,
  }),
  constants: () => ({ WG }),
};

/** A loss mask on the GPU (f32 [B, 1, H, W]) with its per-sample pixel sums taken on the CPU. */
export interface LossMask {
  readonly tensor: Tensor;
  readonly sums: readonly number[];
}

/** Σ_{h,w} mask per sample; throws EmptyMaskError for a sample whose sum is not positive. */
export function maskSums(data: ArrayLike<number>, shape: readonly number[]): number[] {
  if (shape.length !== 4 || shape[1] !== 1) throw new RangeError(`loss mask must be [B, 1, H, W], got [${shape.join(', ')}]`);
  if (data.length !== numel(shape)) throw new RangeError(`loss mask: ${data.length} values for [${shape.join(', ')}]`);
  const [b, , h, w] = shape as [number, number, number, number];
  const sums: number[] = [];
  for (let s = 0; s < b; s++) {
    let sum = 0;
    for (let i = 0; i < h * w; i++) {
      const v = data[s * h * w + i]!;
      if (!(v >= 0)) throw new RangeError(`loss mask: value ${v} at sample ${s}, pixel ${i} (masks are in [0, 1])`);
      sum += v;
    }
    if (!(sum > 0)) throw new EmptyMaskError(s, `${h}×${w} mask, sum ${sum}`);
    sums.push(Math.fround(sum));
  }
  return sums;
}

/** Validates and uploads a mask (release `tensor` when done). */
export function prepareLossMask(ctx: GpuContext, data: ArrayLike<number>, shape: readonly number[]): LossMask {
  const sums = maskSums(data, shape);
  return { tensor: ctx.upload(data, shape, 'f32', 'loss mask'), sums };
}

export interface EpsMseOptions {
  /** Multiplied into the gradient (a loss scale for an f16 backward); default 1. */
  gradScale?: number;
  /** dtype of the gradient; default the prediction's. */
  gradDtype?: DType;
}

export interface EpsMseResult {
  /** f32 [1]: the loss (unscaled). */
  loss: Tensor;
  /** dL/dpred × gradScale, the prediction's shape. */
  grad: Tensor;
}

function check(ctx: GpuContext, pred: Tensor, target: Tensor, o: EpsMseOptions): DType {
  if (!sameShape(pred.shape, target.shape)) throw new RangeError(`eps-mse: target ${describe(target)} must have the shape of pred ${describe(pred)}`);
  const gradDtype = o.gradDtype ?? pred.dtype;
  if (!ctx.hasF16 && [pred.dtype, target.dtype, gradDtype].includes('f16')) throw new FeatureMissingError('shader-f16', 'the diffusion loss on f16 tensors');
  const gs = o.gradScale ?? 1;
  if (!(gs > 0) || !Number.isFinite(gs)) throw new RangeError(`eps-mse: gradScale ${gs} must be positive and finite`);
  return gradDtype;
}

async function run(ctx: GpuContext, pred: Tensor, target: Tensor, o: EpsMseOptions, mask: LossMask | null): Promise<EpsMseResult> {
  const gradDtype = check(ctx, pred, target, o);
  const count = numel(pred.shape);
  if (count === 0) throw new RangeError('eps-mse: empty prediction');
  const [b, c = 1, ...spatial] = pred.shape as [number, ...number[]];
  const hw = numel(spatial);
  const grad = ctx.empty(pred.shape, gradDtype, 'eps-mse grad');
  const terms = ctx.empty([count], 'f32', 'eps-mse terms');
  const k = await ctx.kernel(epsMseKernel, { pred: pred.dtype, target: target.dtype, grad: gradDtype, masked: mask !== null });
  const extra: Tensor[] = [];
  if (mask) extra.push(mask.tensor, ctx.upload(mask.sums.map((s) => 1 / (b * s)), [b], 'f32', 'eps-mse sample weights'));
  ctx.dispatch(k, {
    uniforms: { count, per_sample: c * hw, hw, inv_n: 1 / count, grad_scale: o.gradScale ?? 1 },
    bindings: [pred, target, ...extra, grad, terms].map(binding),
    workgroups: grid1d(count, WG),
  });
  const loss = await sumAll(ctx, terms, { dtype: 'f32', label: 'eps-mse loss' });
  const temps = mask ? [terms, extra[1]!] : [terms];
  ctx.submit().then(() => ctx.release(...temps), () => undefined);
  return { loss, grad };
}

/** mean((pred − target)²) and its gradient; pred, target [B, C, ...] in f32 or f16. */
export async function epsMse(ctx: GpuContext, pred: Tensor, target: Tensor, o: EpsMseOptions = {}): Promise<EpsMseResult> {
  return run(ctx, pred, target, o, null);
}

/** CIDM's masked ε-MSE and its gradient; pred, target [B, C, H, W], mask from prepareLossMask. */
export async function maskedEpsMse(ctx: GpuContext, pred: Tensor, target: Tensor, mask: LossMask, o: EpsMseOptions = {}): Promise<EpsMseResult> {
  const [b, , h, w] = pred.shape;
  if (pred.shape.length !== 4 || !sameShape(mask.tensor.shape, [b!, 1, h!, w!])) {
    throw new RangeError(`masked eps-mse: mask ${describe(mask.tensor)} must be [${b}, 1, ${h}, ${w}] for pred ${describe(pred)}`);
  }
  if (mask.tensor.dtype !== 'f32') throw new RangeError(`masked eps-mse: the mask must be f32, got ${mask.tensor.dtype}`);
  for (const [s, sum] of mask.sums.entries()) if (!(sum > 0)) throw new EmptyMaskError(s, `sum ${sum}`);
  if (mask.sums.length !== b) throw new RangeError(`masked eps-mse: ${mask.sums.length} mask sums for batch ${b}`);
  return run(ctx, pred, target, o, mask);
}
