/**
 * linear(ctx, x, weight, bias?): y = x · Wᵀ + b, as torch.nn.functional.linear.
 *   x: [..., in]   weight: [out, in] (PyTorch layout, used as Bᵀ in place: no transpose copy)
 *   bias: [out]    y: [..., out], in x's dtype
 * The leading dims of x are flattened into the GEMM's M, so one tiled dispatch serves any batch.
 */
import type { GpuContext } from '../gpu/context';
import { describe, type Tensor } from '../gpu/tensor';
import { matmul, type MatmulVariant } from './matmul';

export interface LinearOptions {
  variant?: MatmulVariant;
  /** Added in the same dispatch (shape [..., out], x's dtype): y = x · Wᵀ + b + residual. */
  residual?: Tensor;
  /** Write into this tensor (shape [..., out]) instead of a new one. */
  out?: Tensor;
  /** An unfolded LoRA in the same dispatch: y += (x·downᵀ)·upᵀ (matmul's `lora`). */
  lora?: { down: Tensor; up: Tensor };
  label?: string;
}

export async function linear(
  ctx: GpuContext,
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  opts: LinearOptions = {},
): Promise<Tensor> {
  const label = opts.label ?? 'linear';
  if (weight.shape.length !== 2) throw new RangeError(`${label}: weight ${describe(weight)} is not [out, in]`);
  const [outF, inF] = weight.shape as [number, number];
  const last = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || last !== inF) {
    throw new RangeError(`${label}: x ${describe(x)} does not end in in_features=${inF} of ${describe(weight)}`);
  }
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((n, d) => n * d, 1);
  // A view of x as [rows, in]: same buffer, only the shape differs.
  const x2: Tensor = { ...x, shape: [rows, inF] };
  const y = await matmul(ctx, x2, weight, {
    transB: true,
    ...(bias ? { bias } : {}),
    ...(opts.residual ? { residual: { ...opts.residual, shape: [rows, outF] } } : {}),
    ...(opts.variant ? { variant: opts.variant } : {}),
    ...(opts.out ? { out: opts.out } : {}),
    ...(opts.lora ? { lora: opts.lora } : {}),
    label,
  });
  return { ...y, shape: [...lead, outF] };
}
