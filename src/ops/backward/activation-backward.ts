/**
 * Backward of the pointwise activations (src/ops/elementwise.ts) and of GEGLU (src/ops/geglu.ts):
 *   activationBackward(act, x, dY)  dX = dY · act′(x), act ∈ silu | gelu (exact erf) | gelu_tanh | quick_gelu
 *   gegluBackward(h, dY)            h [..., 2F] = [a, gate], y = a · gelu(gate):
 *                                   dh = [dY · gelu(gate), dY · a · gelu′(gate)]   ([..., 2F])
 * Both take the forward's INPUT (x or h), which gradient checkpointing keeps or recomputes; the
 * derivatives are in shaders/activation_backward.wgsl. One dtype for all operands (f32, or f16 storage
 * with `shader-f16`); math is f32.
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import type { KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, sameShape, type DType, type Tensor } from '../../gpu/tensor';
import { gegluOutputShape } from '../geglu';
import { grid1d } from '../grid';
import source from '../../../shaders/activation_backward.wgsl?raw';

const WG = 256;

/** The activations with a backward (elementwise.ts's Activation minus 'none' and 'erf'). */
export type BackwardActivation = 'silu' | 'gelu' | 'gelu_tanh' | 'quick_gelu';

export const BACKWARD_ACTIVATIONS: readonly BackwardActivation[] = ['silu', 'gelu', 'gelu_tanh', 'quick_gelu'];

export interface ActivationBackwardVariant {
  dtype: DType;
  act: BackwardActivation | 'geglu';
}

export const activationBackwardKernel: KernelDescriptor<ActivationBackwardVariant> = {
  name: 'activation-backward',
  source,
  defines: ({ dtype, act }) => ({ DTYPE: dtype, ACT: act }),
  constants: () => ({ WG }),
};

function checkDtype(ctx: GpuContext, label: string, x: Tensor, dY: Tensor): void {
  if (dY.dtype !== x.dtype) throw new RangeError(`${label}: dY ${describe(dY)} and the input ${describe(x)} differ in dtype`);
  if (x.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${label} on f16 tensors`);
}

async function run(ctx: GpuContext, act: ActivationBackwardVariant['act'], x: Tensor, dY: Tensor, half: number, label: string): Promise<Tensor> {
  const dx = ctx.empty(x.shape, x.dtype, label);
  const count = numel(dY.shape);
  if (count === 0) return dx;
  const k = await ctx.kernel(activationBackwardKernel, { dtype: x.dtype, act });
  ctx.dispatch(k, {
    uniforms: { count, half },
    bindings: [binding(x), binding(dY), binding(dx)],
    workgroups: grid1d(count, WG),
  });
  return dx;
}

/** dX = dY · act′(x), x and dY of one shape; a new tensor in x's dtype. */
export async function activationBackward(ctx: GpuContext, act: BackwardActivation, x: Tensor, dY: Tensor): Promise<Tensor> {
  const label = `${act}-backward`;
  if (!BACKWARD_ACTIVATIONS.includes(act)) throw new RangeError(`activationBackward: no backward for activation "${String(act)}"`);
  checkDtype(ctx, label, x, dY);
  if (!sameShape(x.shape, dY.shape)) throw new RangeError(`${label}: dY ${describe(dY)} must match x ${describe(x)}`);
  return run(ctx, act, x, dY, 1, label);
}

/** dh [..., 2F] for y = geglu(h) [..., F]; a new tensor in h's dtype. */
export async function gegluBackward(ctx: GpuContext, h: Tensor, dY: Tensor): Promise<Tensor> {
  const label = 'geglu-backward';
  checkDtype(ctx, label, h, dY);
  const outShape = gegluOutputShape(h.shape);
  if (!sameShape(dY.shape, outShape)) throw new RangeError(`${label}: dY ${describe(dY)} must be [${outShape.join('×')}] for h ${describe(h)}`);
  return run(ctx, 'geglu', h, dY, outShape[outShape.length - 1]!, label);
}
