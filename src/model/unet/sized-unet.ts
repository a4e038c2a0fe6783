/**
 * A UNet laid out as loadUNet lays it out (one persistent tensor per weight, in the given dtype) without
 * reading a file: for the planning device (src/gpu/planning-device.ts), where buffers are only sizes.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType } from '../../gpu/tensor';
import { unetArch, type UNetConfigJson } from './arch';
import type { LoadedUNet } from './load';
import { unetWeightShapes } from './weight-shapes';

export function sizedUNet(ctx: GpuContext, config: UNetConfigJson, dtype: DType): LoadedUNet {
  const arch = unetArch(config);
  const weights = new Map(Array.from(unetWeightShapes(arch), ([name, shape]) => [name, ctx.persistent(shape, dtype, name)] as const));
  let bytes = 0;
  for (const t of weights.values()) bytes += t.buffer.size;
  return { arch, weights, dtype, bytes };
}
