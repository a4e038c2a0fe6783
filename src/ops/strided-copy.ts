/**
 * stridedCopy(ctx, src, dst, region): copies (or accumulates, scaled) a rows × cols block between two
 * tensors at element offsets and row strides, converting between f16 and f32 storage on the way.
 * The autograd uses it for batch broadcasts and their sums, splits of last-axis concatenations, and to
 * fold f16 gradients into f32 accumulators (shaders/strided_copy.wgsl).
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/strided_copy.wgsl?raw';

const WG = 256;

interface Variant {
  src: DType;
  dst: DType;
  accumulate: boolean;
}

export const stridedCopyKernel: KernelDescriptor<Variant> = {
  name: 'strided-copy',
  source,
  defines: (v) => ({ SRC: v.src, DST: v.dst, ACCUMULATE: v.accumulate }),
  constants: () => ({ WG }),
};

export interface StridedRegion {
  rows: number;
  cols: number;
  srcOffset?: number;
  /** Elements between rows of src; default cols. */
  srcStride?: number;
  dstOffset?: number;
  dstStride?: number;
  /** Add into dst instead of overwriting it. */
  accumulate?: boolean;
  /** Scale of the copied values (default 1). */
  alpha?: number;
}

/** Whole-buffer binding: offsets are applied in the shader, so slices need no aligned binding offset. */
function whole(t: Tensor): GPUBufferBinding {
  return { buffer: t.buffer, offset: t.offset, size: Math.max(4, Math.ceil((numel(t.shape) * (t.dtype === 'f16' ? 2 : 4)) / 4) * 4) };
}

export async function stridedCopy(ctx: GpuContext, src: Tensor, dst: Tensor, r: StridedRegion): Promise<void> {
  const srcStride = r.srcStride ?? r.cols;
  const dstStride = r.dstStride ?? r.cols;
  const srcOffset = r.srcOffset ?? 0;
  const dstOffset = r.dstOffset ?? 0;
  const n = r.rows * r.cols;
  if (n === 0) return;
  const lastSrc = srcOffset + (r.rows - 1) * srcStride + r.cols - 1;
  const lastDst = dstOffset + (r.rows - 1) * dstStride + r.cols - 1;
  if (lastSrc >= numel(src.shape)) throw new RangeError(`strided-copy: source [${src.shape}] has no element ${lastSrc}`);
  if (lastDst >= numel(dst.shape)) throw new RangeError(`strided-copy: destination [${dst.shape}] has no element ${lastDst}`);
  if ((src.dtype === 'f16' || dst.dtype === 'f16') && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'strided copy of f16 tensors');
  const k = await ctx.kernel(stridedCopyKernel, { src: src.dtype, dst: dst.dtype, accumulate: r.accumulate ?? false });
  ctx.dispatch(k, {
    uniforms: { rows: r.rows, cols: r.cols, src_offset: srcOffset, src_stride: srcStride, dst_offset: dstOffset, dst_stride: dstStride, alpha: r.alpha ?? 1 },
    bindings: [whole(src), whole(dst)],
    workgroups: grid1d(n, WG),
  });
}

/** Plain-TS reference of stridedCopy on host arrays (dst is modified). */
export function stridedCopyReference(src: ArrayLike<number>, dst: Float32Array | Float64Array, r: StridedRegion): void {
  const ss = r.srcStride ?? r.cols;
  const ds = r.dstStride ?? r.cols;
  for (let i = 0; i < r.rows; i++) {
    for (let c = 0; c < r.cols; c++) {
      const v = (r.alpha ?? 1) * src[(r.srcOffset ?? 0) + i * ss + c]!;
      const d = (r.dstOffset ?? 0) + i * ds + c;
      dst[d] = r.accumulate ? dst[d]! + v : v;
    }
  }
}
