/**
 * castTo(ctx, x, dtype) and castToF32(ctx, x): a copy of x converted to another storage dtype (f16
 * activations or gradients into the f32 optimizer, and back). They run the elementwise kernel's
 * identity variant (shaders/elementwise.wgsl with OP = none, ACT = none: out = O_T(f32(a))), which
 * already converts per operand dtype, rather than a second copy-convert kernel. Always a new tensor,
 * also when the dtype does not change, so the caller owns (and releases) the result either way.
 */
import type { GpuContext } from '../gpu/context';
import type { DType, Tensor } from '../gpu/tensor';
import { scale } from './elementwise';

export function castTo(ctx: GpuContext, x: Tensor, dtype: DType, label = `cast-${dtype}`): Promise<Tensor> {
  // alpha = 1, beta = 0 are exact in f32: the value is only re-rounded to the target dtype.
  return scale(ctx, x, 1, { dtype, label });
}

export function castToF32(ctx: GpuContext, x: Tensor, label?: string): Promise<Tensor> {
  return castTo(ctx, x, 'f32', label);
}
