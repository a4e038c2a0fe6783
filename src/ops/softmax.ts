/**
 * softmax over the last axis (attention scores, classifier logits), optionally of `scale * x`:
 * a power-of-two slice of a workgroup per row (the whole workgroup for rows of 1024 and more) with
 * an online max/sum (shaders/softmax.wgsl), so any row length works and large logits cannot
 * overflow. f32 or f16 storage; f32 math.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/softmax.wgsl?raw';

export interface SoftmaxOptions {
  /** Write here instead of a new tensor (same element count); it may be `x` itself (in place). */
  out?: Tensor;
  /** dtype of a new result; default x's. */
  dtype?: DType;
  /** softmax(scale * x), e.g. 1/sqrt(d) for attention scores; default 1. */
  scale?: number;
  label?: string;
}

const WG = 256;
/** Elements per invocation a row should give before it gets more invocations (see threadsPerRow). */
const PER_THREAD = 4;

/** Invocations per row: the power of two nearest above cols / perThread, at most the workgroup size. */
export function threadsPerRow(cols: number, perThread: number, wg: number): number {
  let t = 1;
  while (t < wg && t * perThread < cols) t *= 2;
  return t;
}

interface Variant {
  input: DType;
  output: DType;
  inplace: boolean;
  /** One invocation per row (rows of at most PER_THREAD elements): no barriers. */
  serial: boolean;
}

export const softmaxKernel: KernelDescriptor<Variant> = {
  name: 'softmax',
  source,
  defines: (v) => ({
    IN_T: v.input,
    OUT_T: v.output,
    F16: v.input === 'f16' || v.output === 'f16',
    INPLACE: v.inplace,
    SERIAL: v.serial,
  }),
  constants: () => ({ WG }),
};

export async function softmax(ctx: GpuContext, x: Tensor, opts: SoftmaxOptions = {}): Promise<Tensor> {
  if (x.shape.length === 0) throw new RangeError('softmax needs at least one axis');
  const cols = x.shape[x.shape.length - 1]!;
  const count = numel(x.shape);
  const outDtype = opts.out?.dtype ?? opts.dtype ?? x.dtype;
  if (!ctx.hasF16 && (x.dtype === 'f16' || outDtype === 'f16')) {
    throw new FeatureMissingError('shader-f16', 'softmax on f16 tensors');
  }
  const out = opts.out ?? ctx.empty(x.shape, outDtype, opts.label ?? 'softmax');
  if (numel(out.shape) !== count) {
    throw new RangeError(`softmax: out has ${numel(out.shape)} elements, x ${count}`);
  }
  const inplace = out.buffer === x.buffer && out.offset === x.offset;
  if (inplace && out.dtype !== x.dtype) throw new RangeError('softmax in place needs out.dtype === x.dtype');
  if (!inplace && out.buffer === x.buffer) throw new RangeError('softmax: out must be x itself or another buffer');
  if (count === 0) return out;
  const rows = count / cols;
  const tpr = threadsPerRow(cols, PER_THREAD, WG);
  const k = await ctx.kernel(softmaxKernel, { input: x.dtype, output: out.dtype, inplace, serial: tpr === 1 });
  ctx.dispatch(k, {
    uniforms: { rows, cols, tpr, scale: opts.scale ?? 1 },
    bindings: inplace ? [binding(x)] : [binding(x), binding(out)],
    workgroups: grid1d(rows, WG / tpr),
  });
  return out;
}
