/**
 * upsampleNearest(ctx, x, outputSize?): F.interpolate(x, mode='nearest') on NCHW tensors, as
 * diffusers Upsample2D calls it before its conv: scale_factor=2 by default, or an explicit
 * output_size (the UNet passes one when a skip connection has an odd size, e.g. 4x5 -> 7x10).
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, sameShape, describe, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import { nearestScale } from './small-ops.reference';
import source from '../../shaders/upsample.wgsl?raw';

const WG = 256;

export const upsampleNearestKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'upsample-nearest',
  source,
  defines: ({ dtype }) => ({ DTYPE: dtype }),
  constants: () => ({ WG }),
};

export interface UpsampleOptions {
  /** [outH, outW]; default [2H, 2W] (scale_factor 2). */
  outputSize?: readonly [number, number];
  /** Destination [N, C, outH, outW] of x's dtype; allocated when absent. */
  out?: Tensor;
}

export async function upsampleNearest(ctx: GpuContext, x: Tensor, options: UpsampleOptions = {}): Promise<Tensor> {
  if (x.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'upsample on f16 tensors');
  if (x.shape.length !== 4) throw new RangeError(`upsampleNearest: x must be NCHW, got [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [outH, outW] = options.outputSize ?? [2 * h, 2 * w];
  if (!(outH > 0 && outW > 0 && h > 0 && w > 0) || !Number.isInteger(outH) || !Number.isInteger(outW)) {
    throw new RangeError(`upsampleNearest: bad sizes ${h}x${w} -> ${outH}x${outW}`);
  }
  const outShape = [n, c, outH, outW];
  const out = options.out ?? ctx.empty(outShape, x.dtype, 'upsample-out');
  if (!sameShape(out.shape, outShape) || out.dtype !== x.dtype) {
    throw new RangeError(`upsampleNearest: out is ${describe(out)}, expected ${x.dtype}[${outShape.join('×')}]`);
  }
  const count = numel(outShape);
  const k = await ctx.kernel(upsampleNearestKernel, { dtype: x.dtype });
  ctx.dispatch(k, {
    uniforms: {
      count,
      in_h: h,
      in_w: w,
      out_h: outH,
      out_w: outW,
      scale_h: nearestScale(h, outH),
      scale_w: nearestScale(w, outW),
    },
    bindings: [binding(x), binding(out)],
    workgroups: grid1d(count, WG),
  });
  return out;
}
