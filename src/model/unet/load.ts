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
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function loadUNet(ctx: GpuContext, file: SafetensorsFile, config: UNetConfigJson, o: LoadUNetOptions): Promise<LoadedUNet> {
  const arch = unetArch(config);
  const shapes = unetWeightShapes(arch);
  const nameIn = o.fileName ?? ((n: string) => n);
  for (const [name, shape] of shapes) file.expectShape(nameIn(name), shape);
  checkComputeDtype(ctx, o.dtype, 'the UNet');

  const weights = new Map<string, Tensor>();
  let done = 0;
  let bytes = 0;
  try {
    for (const [name, shape] of shapes) {
      o.signal?.throwIfAborted();
      const dtype = weightStorageDtype(shape, o.dtype, o.packWeights);
      const t = ctx.persistentWeight(shape, dtype, name);
      weights.set(name, t);
      for await (const chunk of file.chunks(nameIn(name), dtype)) ctx.write(t, chunk.data, chunk.elementOffset);
      bytes += t.buffer.size;
      o.onProgress?.(++done, shapes.size);
    }
  } catch (err) {
    for (const t of weights.values()) ctx.destroyTensor(t);
    throw err;
  }
  return { arch, weights, dtype: o.dtype, bytes };
}

export function destroyUNet(ctx: GpuContext, unet: LoadedUNet): void {
  for (const t of unet.weights.values()) ctx.destroyTensor(t);
  unet.weights.clear();
}
