/**
 * transpose12(x): [B, R, C] → [B, C, R]. The layout change between images (NCHW, for convolutions and
 * GroupNorm) and token sequences ([B, H·W, C], for the transformer blocks). GPUs take the tiled kernel
 * (coalesced reads and writes through workgroup memory); CPU adapters the direct one, one invocation
 * per element without a barrier (the tiny UNet step's 22 transposes on SwiftShader: 210 → 40 ms).
 */
import type { GpuContext } from '../gpu/context';
import { ceilDiv, type KernelDescriptor } from '../gpu/kernel';
import { binding, describe, sameShape, type DType, type Tensor } from '../gpu/tensor';
import { isCpuAdapter } from './matmul';
import { grid1d } from './grid';
import source from '../../shaders/transpose.wgsl?raw';

export interface TransposeVariant {
  dtype: DType;
  /** Adds a residual of the output's shape in the same pass (transpose.wgsl RESIDUAL). */
  residual: boolean;
}

const transposeDefines = ({ dtype, residual }: TransposeVariant) => ({ DTYPE: dtype, RESIDUAL: residual });

export const transposeKernel: KernelDescriptor<TransposeVariant> = {
  name: 'transpose',
  source,
  defines: transposeDefines,
};

/** One invocation per element, no workgroup memory (CPU adapters). */
export const transposeDirectKernel: KernelDescriptor<TransposeVariant> = {
  name: 'transpose-direct',
  source,
  entryPoint: 'direct',
  defines: transposeDefines,
};

export interface TransposeOptions {
  /** Force a kernel (tests run both on one adapter); default: direct on CPU adapters, tiled elsewhere. */
  kernel?: 'tiled' | 'direct';
  /** out = transpose(x) + residual, residual of the output's shape and dtype (the epilogue add). */
  residual?: Tensor;
}

export async function transpose12(ctx: GpuContext, x: Tensor, batch: number, rows: number, cols: number, outShape: readonly number[], o: TransposeOptions = {}): Promise<Tensor> {
  const direct = (o.kernel ?? (isCpuAdapter(ctx) ? 'direct' : 'tiled')) === 'direct';
  const res = o.residual;
  if (res && (res.dtype !== x.dtype || !sameShape(res.shape, outShape))) {
    throw new RangeError(`transpose: residual ${describe(res)} must be ${x.dtype} [${outShape.join(', ')}]`);
  }
  const k = await ctx.kernel(direct ? transposeDirectKernel : transposeKernel, { dtype: x.dtype, residual: !!res });
  const out = ctx.empty(outShape, x.dtype, 'transpose');
  ctx.dispatch(k, {
    uniforms: { batch, rows, cols },
    bindings: res ? [binding(x), binding(out), binding(res)] : [binding(x), binding(out)],
    workgroups: direct ? grid1d(batch * rows * cols, 64) : [ceilDiv(cols, 16), ceilDiv(rows, 16), batch],
  });
  return out;
}

/** NCHW → [N, H·W, C]. */
export function imageToTokens(ctx: GpuContext, x: Tensor): Promise<Tensor> {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return transpose12(ctx, x, n, c, h * w, [n, h * w, c]);
}

/** [N, H·W, C] → NCHW, plus an NCHW residual when given (one dispatch either way). */
export function tokensToImage(ctx: GpuContext, t: Tensor, height: number, width: number, residual?: Tensor): Promise<Tensor> {
  const [n, hw, c] = t.shape as [number, number, number];
  if (hw !== height * width) throw new RangeError(`tokensToImage: ${hw} tokens for ${height}×${width}`);
  return transpose12(ctx, t, n, hw, c, [n, c, height, width], { residual });
}

export function transposeReference(x: ArrayLike<number>, batch: number, rows: number, cols: number, residual?: ArrayLike<number>): Float32Array {
  const out = new Float32Array(batch * rows * cols);
  for (let b = 0; b < batch; b++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const o = b * rows * cols + c * rows + r;
        out[o] = x[b * rows * cols + r * cols + c]! + (residual ? residual[o]! : 0);
      }
  return out;
}
