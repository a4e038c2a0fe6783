/**
 * transpose12(x): [B, R, C] → [B, C, R]. The layout change between images (NCHW, for convolutions and
 * GroupNorm) and token sequences ([B, H·W, C], for the transformer blocks).
 */
import type { GpuContext } from '../gpu/context';
import { ceilDiv, type KernelDescriptor } from '../gpu/kernel';
import { binding, type DType, type Tensor } from '../gpu/tensor';
import source from '../../shaders/transpose.wgsl?raw';

export const transposeKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'transpose',
  source,
  defines: ({ dtype }) => ({ DTYPE: dtype }),
};

export async function transpose12(ctx: GpuContext, x: Tensor, batch: number, rows: number, cols: number, outShape: readonly number[]): Promise<Tensor> {
  const k = await ctx.kernel(transposeKernel, { dtype: x.dtype });
  const out = ctx.empty(outShape, x.dtype, 'transpose');
  ctx.dispatch(k, {
    uniforms: { batch, rows, cols },
    bindings: [binding(x), binding(out)],
    workgroups: [ceilDiv(cols, 16), ceilDiv(rows, 16), batch],
  });
  return out;
}

/** NCHW → [N, H·W, C]. */
export function imageToTokens(ctx: GpuContext, x: Tensor): Promise<Tensor> {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return transpose12(ctx, x, n, c, h * w, [n, h * w, c]);
}

/** [N, H·W, C] → NCHW. */
export function tokensToImage(ctx: GpuContext, t: Tensor, height: number, width: number): Promise<Tensor> {
  const [n, hw, c] = t.shape as [number, number, number];
  if (hw !== height * width) throw new RangeError(`tokensToImage: ${hw} tokens for ${height}×${width}`);
  return transpose12(ctx, t, n, hw, c, [n, c, height, width]);
}

export function transposeReference(x: ArrayLike<number>, batch: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(batch * rows * cols);
  for (let b = 0; b < batch; b++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) out[b * rows * cols + c * rows + r] = x[b * rows * cols + r * cols + c]!;
  return out;
}
