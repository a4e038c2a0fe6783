/**
 * Loads UNet weights from a safetensors file into GPU tensors of the compute dtype, tensor by tensor
 * in bounded chunks (never the whole file in memory). Every tensor the architecture needs is checked
 * for presence and shape first, so a wrong or incomplete checkpoint fails before any upload.
 */
import type { GpuContext } from '../../gpu/context';
import type { DType, Tensor } from '../../gpu/tensor';
import type { SafetensorsFile } from '../safetensors/reader';
import { unetArch, type UNetArch, type UNetConfigJson } from './arch';
import { unetWeightShapes } from './weight-shapes';
import { checkComputeDtype, weightStorageDtype } from '../weights/storage-dtype';
import { allocateUNetWeights, destroyWeights, weightBufferBytes } from './fused-qkv';

export interface LoadedUNet {
  arch: UNetArch;
  weights: Map<string, Tensor>;
  dtype: DType;
  bytes: number;
}

export interface LoadUNetOptions {
  /** The compute (activation) dtype. */
  dtype: DType;
  /** Store the matrices and conv kernels as packed f16 under f32 compute (model/weights/storage-dtype.ts). */
  packWeights?: boolean;
  /** diffusers name → name in the file (single-file SGM checkpoints); identity when absent. */
  fileName?: (diffusersName: string) => string;
  /**
   * Store each self-attention's q/k/v weights back to back, as views of one buffer, so that the forward
   * runs them as one matmul (fused-qkv.ts). Default true; false: one buffer per weight.
   */
  fuseQkv?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function loadUNet(ctx: GpuContext, file: SafetensorsFile, config: UNetConfigJson, o: LoadUNetOptions): Promise<LoadedUNet> {
  const arch = unetArch(config);
  const shapes = unetWeightShapes(arch);
  const nameIn = o.fileName ?? ((n: string) => n);
  for (const [name, shape] of shapes) file.expectShape(nameIn(name), shape);
  checkComputeDtype(ctx, o.dtype, 'the UNet');

  // allocated up front (q/k/v of each attn1 as views of one buffer, fused-qkv.ts), then filled tensor by tensor
  const weights = allocateUNetWeights(ctx, arch, shapes, (shape) => weightStorageDtype(shape, o.dtype, o.packWeights), { fuseQkv: o.fuseQkv ?? true });
  let done = 0;
  try {
    for (const [name, t] of weights) {
      o.signal?.throwIfAborted();
      for await (const chunk of file.chunks(nameIn(name), t.dtype)) ctx.write(t, chunk.data, chunk.elementOffset);
      o.onProgress?.(++done, shapes.size);
    }
  } catch (err) {
    destroyWeights(ctx, weights.values());
    throw err;
  }
  const bytes = weightBufferBytes(weights.values());
  return { arch, weights, dtype: o.dtype, bytes };
}

export function destroyUNet(ctx: GpuContext, unet: LoadedUNet): void {
  destroyWeights(ctx, unet.weights.values());
  unet.weights.clear();
}
