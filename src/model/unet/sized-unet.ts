/**
 * A UNet laid out as loadUNet lays it out (persistent tensors in the given dtype, attn1 q/k/v fused) without
 * reading a file: for the planning device (src/gpu/planning-device.ts), where buffers are only sizes.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType } from '../../gpu/tensor';
import { unetArch, type UNetConfigJson } from './arch';
import type { LoadedUNet } from './load';
import { unetWeightShapes } from './weight-shapes';
import { weightStorageDtype } from '../weights/storage-dtype';
import { allocateUNetWeights, weightBufferBytes } from './fused-qkv';

export function sizedUNet(ctx: GpuContext, config: UNetConfigJson, dtype: DType, packWeights = false, o: { fuseQkv?: boolean } = {}): LoadedUNet {
  const arch = unetArch(config);
  // stored as loadUNet stores them (weights/storage-dtype.ts: packed f16 matrices under f32 compute;
  // fused-qkv.ts: each attn1's q/k/v as views of one buffer)
  const weights = allocateUNetWeights(ctx, arch, unetWeightShapes(arch), (shape) => weightStorageDtype(shape, dtype, packWeights), o);
  return { arch, weights, dtype, bytes: weightBufferBytes(weights.values()) };
}
