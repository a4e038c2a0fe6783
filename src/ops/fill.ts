/** fill(t, value): sets every element of a tensor. */
import type { GpuContext } from '../gpu/context';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/fill.wgsl?raw';

const WG = 256;

export const fillKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'fill',
  source,
  defines: ({ dtype }) => ({ DTYPE: dtype }),
  constants: () => ({ WG }),
};

export async function fill(ctx: GpuContext, t: Tensor, value: number): Promise<Tensor> {
  const count = numel(t.shape);
  const k = await ctx.kernel(fillKernel, { dtype: t.dtype });
  ctx.dispatch(k, { uniforms: { count, value }, bindings: [binding(t)], workgroups: grid1d(count, WG) });
  return t;
}

export function fillReference(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}
