/**
 * geglu(ctx, h): the gated activation of diffusers' FeedForward (activation_fn='geglu'):
 * h = ff.net.0.proj(x) is [..., 2F]; hidden, gate = h.chunk(2, -1); out = hidden · gelu(gate),
 * exact erf GELU. The two linears around it belong to the linear op; this is the part between them.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, sameShape, describe, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/geglu.wgsl?raw';

const WG = 256;

export interface GegluVariant {
  dtype: DType;
  /** Features per invocation: 4 when F % 4 == 0 (vec4 loads), else 1. */
  vec: 1 | 4;
}

export const gegluKernel: KernelDescriptor<GegluVariant> = {
  name: 'geglu',
  source,
  defines: ({ dtype, vec }) => ({ DTYPE: dtype, VEC: vec }),
  constants: () => ({ WG }),
};

export interface GegluOptions {
  /** Destination [..., F] of h's dtype; allocated when absent. */
  out?: Tensor;
  /** Use the vec4 variant when F % 4 == 0 (default true); false forces the scalar one. */
  vectorize?: boolean;
}

/** The output shape of GEGLU for an input shape [..., 2F]: [..., F]. */
export function gegluOutputShape(shape: readonly number[]): number[] {
  const last = shape[shape.length - 1];
  if (last === undefined || last === 0 || last % 2 !== 0) {
    throw new RangeError(`geglu: the last dimension of [${shape.join(', ')}] must be even and non-zero`);
  }
  return [...shape.slice(0, -1), last / 2];
}

export async function geglu(ctx: GpuContext, h: Tensor, options: GegluOptions = {}): Promise<Tensor> {
  if (h.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'geglu on f16 tensors');
  const outShape = gegluOutputShape(h.shape);
  const features = outShape[outShape.length - 1]!;
  const out = options.out ?? ctx.empty(outShape, h.dtype, 'geglu-out');
  if (!sameShape(out.shape, outShape) || out.dtype !== h.dtype) {
    throw new RangeError(`geglu: out is ${describe(out)}, expected ${h.dtype}[${outShape.join('×')}]`);
  }
  const vec = options.vectorize !== false && features % 4 === 0 ? 4 : 1;
  const half = features / vec;
  const count = (numel(outShape) / features) * half;
  const k = await ctx.kernel(gegluKernel, { dtype: h.dtype, vec });
  ctx.dispatch(k, { uniforms: { count, half }, bindings: [binding(h), binding(out)], workgroups: grid1d(count, WG) });
  return out;
}
