/**
 * A UNet laid out as loadUNet lays it out (one persistent tensor per weight, in the given dtype) without
 * reading a file: for the planning device (src/gpu/planning-device.ts), where buffers are only sizes.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType } from '../../gpu/tensor';
import { unetArch, type UNetConfigJson } from './arch';
import type { LoadedUNet } from './load';
import { unetWeightShapes } from './weight-shapes';
import { weightStorageDtype } from '../weights/storage-dtype';

export function sizedUNet(ctx: GpuContext, config: UNetConfigJson, dtype: DType, packWeights = false): LoadedUNet {
  const arch = unetArch(config);
  // stored as loadUNet stores them (weights/storage-dtype.ts: packed f16 matrices under f32 compute)
  const weights = new Map(Array.from(unetWeightShapes(arch), ([name, shape]) => [name, ctx.persistentWeight(shape, weightStorageDtype(shape, dtype, packWeights), name)] as const));
  let bytes = 0;
  for (const t of weights.values()) bytes += t.buffer.size;
  return { arch, weights, dtype, bytes };
}
