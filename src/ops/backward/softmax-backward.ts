/**
 * softmaxBackward(ctx, y, dY): the gradient of y = softmax(x) over the last axis, from the forward's
 * OUTPUT y (the logits are not needed): dX = y ∘ (dY − Σ_last(dY ∘ y)) (shaders/softmax_backward.wgsl).
 * A power-of-two slice of a workgroup per row, as the forward (threadsPerRow), so 77-token rows and
 * 4096-token rows both keep the workgroup busy. One dtype for y, dY and dX (f16 storage needs
 * `shader-f16`); math is f32.
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import type { KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { grid1d } from '../grid';
import { threadsPerRow } from '../softmax';
import source from '../../../shaders/softmax_backward.wgsl?raw';

const WG = 256;
/** Elements per invocation a row should give before it gets more invocations (as the forward). */
const PER_THREAD = 4;

export interface SoftmaxBackwardVariant {
  dtype: DType;
  /** One invocation per row (rows of at most PER_THREAD elements): no barriers. */
  serial: boolean;
}

export const softmaxBackwardKernel: KernelDescriptor<SoftmaxBackwardVariant> = {
  name: 'softmax-backward',
  source,
  defines: ({ dtype, serial }) => ({ DTYPE: dtype, SERIAL: serial }),
  constants: () => ({ WG }),
};

/** dX for y = softmax(x) over the last axis; a new tensor in y's dtype and shape. */
export async function softmaxBackward(ctx: GpuContext, y: Tensor, dY: Tensor): Promise<Tensor> {
  const label = 'softmax-backward';
  if (y.shape.length === 0) throw new RangeError(`${label} needs at least one axis`);
  if (dY.dtype !== y.dtype || !sameShape(dY.shape, y.shape)) throw new RangeError(`${label}: dY ${describe(dY)} must match y ${describe(y)}`);
  if (y.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
  const dx = ctx.empty(y.shape, y.dtype, label);
  const cols = y.shape[y.shape.length - 1]!;
  const count = numel(y.shape);
  if (count === 0) return dx;
  const rows = count / cols;
  const tpr = threadsPerRow(cols, PER_THREAD, WG);
  const k = await ctx.kernel(softmaxBackwardKernel, { dtype: y.dtype, serial: tpr === 1 });
  ctx.dispatch(k, {
    uniforms: { rows, cols, tpr },
    bindings: [binding(y), binding(dY), binding(dx)],
    workgroups: grid1d(rows, WG / tpr),
  });
  return dx;
}
