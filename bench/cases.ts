/**
 * What the bench measures: each case is one ONNX peer model (shared/onnx) and our implementation of
 * the same work, given the same input tensors by name. `variants` are our kernel variants to time.
 */
import type { GpuContext } from '../src/gpu/context';
import type { Tensor } from '../src/gpu/tensor';
import { matmul } from '../src/ops/matmul';
import { BLOCK_CASES, UNET_CASES } from './block-cases';
import type { Sidecar } from './inputs';

export interface BenchCase {
  /** ONNX model name without the `_small` suffix. */
  model: string;
  op: string;
  /** Input data by name; default: the sidecar's suggested random init. */
  inputs?: (meta: Sidecar) => Record<string, Float32Array>;
  /** Our side: the same computation from the same named inputs. */
  variants: Record<string, (ctx: GpuContext, inputs: Record<string, Tensor>) => Promise<Tensor>>;
}

const matmulCase = (shape: string): BenchCase => ({
  model: `matmul_${shape}`,
  op: 'matmul',
  variants: {
    naive: (ctx, t) => matmul(ctx, t.a!, t.b!, { variant: 'naive' }),
    tiled: (ctx, t) => matmul(ctx, t.a!, t.b!, { variant: 'tiled' }),
  },
});

export const MATMUL_CASES: BenchCase[] = ['4096x640x640', '4096x640x5120', '1024x1280x1280', '77x2048x640'].map(matmulCase);

export const ALL_CASES: Record<string, BenchCase[]> = {
  matmul: MATMUL_CASES,
  blocks: BLOCK_CASES,
  unet: UNET_CASES,
};
