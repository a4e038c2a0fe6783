/**
 * The storage dtype of one weight tensor. Normally every weight is stored in the compute dtype. On the
 * packed path (a device without shader-f16: f32 activations and math, DESIGN.md "GPUs as Chrome offers
 * them") the matrices and conv kernels — every weight of rank ≥ 2, which the model code reads only
 * through matmul's B, conv2d's weight or the embedding table, the kernels with a packed variant — are
 * stored as f16 pairs in u32 words (half of SDXL's ~10 GiB of f32 weights); vectors (biases, norm
 * scales) stay f32: they are small and read by kernels without a packed variant.
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import type { DType } from '../../gpu/tensor';

export function weightStorageDtype(shape: readonly number[], dtype: DType, packWeights = false): DType {
  return packWeights && dtype === 'f32' && shape.length >= 2 ? 'f16' : dtype;
}

/**
 * f16 compute needs shader-f16; only the packed weights (f16 storage under f32 compute) may be f16
 * without it. Loaders call this before any upload, so an f16 load is refused by name up front.
 */
export function checkComputeDtype(ctx: GpuContext, dtype: DType, what: string): void {
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', `${what} in f16`);
}
