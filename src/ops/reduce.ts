/**
 * Sums and means over the last axis, and over a whole tensor, by a segmented workgroup reduction
 * (shaders/reduce.wgsl) with f32 accumulation. A row longer than one segment is reduced in several
 * passes over f32 partials (atomics-free: each pass is a plain dispatch, ordered by the command
 * stream), so any size works: 2^32 elements need at most 3 passes with 4096-element segments.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import { threadsPerRow } from './softmax';
import source from '../../shaders/reduce.wgsl?raw';

export interface ReduceOptions {
  /** Write here instead of a new tensor (same element count as the result). */
  out?: Tensor;
  /** dtype of a new result; default x's. Partials are always f32. */
  dtype?: DType;
  /** Last-axis reductions: keep the reduced axis with size 1. */
  keepDim?: boolean;
  /** Elements one workgroup sums per pass (default 4096 = 16 per invocation); for tuning and tests. */
  segmentLength?: number;
  label?: string;
}

const WG = 256;
const SEGMENT = 4096;
/** A segment gets one more doubling of invocations per this many elements (4096 -> all 256). */
const PER_THREAD = 16;

interface Variant {
  input: DType;
  output: DType;
  /** One invocation per segment (segments of at most PER_THREAD elements): no barriers. */
  serial: boolean;
}

export const reduceKernel: KernelDescriptor<Variant> = {
  name: 'reduce-sum',
  source,
  defines: (v) => ({ IN_T: v.input, OUT_T: v.output, F16: v.input === 'f16' || v.output === 'f16', SERIAL: v.serial }),
  constants: () => ({ WG }),
};

/** Reduces each of `rows` contiguous rows of `cols` elements of x into out[r] = scale * sum(row r). */
async function reduceRows(
  ctx: GpuContext,
  x: Tensor,
  rows: number,
  cols: number,
  scale: number,
  outShape: number[],
  opts: ReduceOptions,
): Promise<Tensor> {
  const outDtype = opts.out?.dtype ?? opts.dtype ?? x.dtype;
  if (!ctx.hasF16 && (x.dtype === 'f16' || outDtype === 'f16')) {
    throw new FeatureMissingError('shader-f16', 'sum/mean on f16 tensors');
  }
  const out = opts.out ?? ctx.empty(outShape, outDtype, opts.label ?? 'reduce-sum');
  if (numel(out.shape) !== rows) {
    throw new RangeError(`sum/mean: out has ${numel(out.shape)} elements, the result ${rows}`);
  }
  if (out.buffer === x.buffer) throw new RangeError('sum/mean: out must not share a buffer with x');
  if (rows === 0) return out;
  const segLen = opts.segmentLength ?? SEGMENT;
  if (!Number.isInteger(segLen) || segLen < 1) {
    throw new RangeError(`segmentLength ${segLen} is not a positive integer`);
  }

  const temps: Tensor[] = [];
  let input = x;
  let len = cols;
  for (;;) {
    const segs = Math.max(1, Math.ceil(len / segLen));
    const last = segs === 1;
    const dst = last ? out : ctx.empty([rows * segs], 'f32', 'reduce-sum partials');
    if (!last) temps.push(dst);
    const tpr = threadsPerRow(Math.min(len, segLen), PER_THREAD, WG);
    const k = await ctx.kernel(reduceKernel, { input: input.dtype, output: dst.dtype, serial: tpr === 1 });
    ctx.dispatch(k, {
      uniforms: { groups: rows * segs, segs, cols: len, seg_len: segLen, tpr, scale: last ? scale : 1 },
      bindings: [binding(input), binding(dst)],
      workgroups: grid1d(rows * segs, WG / tpr),
    });
    if (last) break;
    input = dst;
    len = segs;
  }
  // A pooled buffer may be handed out again only once the GPU is done with it: an upload to it
  // (queue.writeBuffer) would otherwise land before these recorded dispatches run. A failed
  // submit surfaces through the caller's own flush/read and device.lost, not here.
  if (temps.length) {
    ctx.submit().then(
      () => ctx.release(...temps),
      () => undefined,
    );
  }
  return out;
}

function lastAxis(ctx: GpuContext, x: Tensor, mean: boolean, opts: ReduceOptions): Promise<Tensor> {
  if (x.shape.length === 0) throw new RangeError('a last-axis reduction needs at least one axis');
  const cols = x.shape[x.shape.length - 1]!;
  const lead = x.shape.slice(0, -1);
  const outShape = opts.keepDim ? [...lead, 1] : lead.length ? lead : [1];
  return reduceRows(ctx, x, numel(lead), cols, mean ? 1 / cols : 1, outShape, opts);
}

/** Sum over the last axis: [..., n] -> [...] (or [..., 1] with keepDim; [1] for a 1-D x). */
export function sumLastAxis(ctx: GpuContext, x: Tensor, opts: ReduceOptions = {}): Promise<Tensor> {
  return lastAxis(ctx, x, false, opts);
}

/** Mean over the last axis: [..., n] -> [...] (or [..., 1] with keepDim; [1] for a 1-D x). */
export function meanLastAxis(ctx: GpuContext, x: Tensor, opts: ReduceOptions = {}): Promise<Tensor> {
  return lastAxis(ctx, x, true, opts);
}

/** Sum of every element, as a tensor of shape [1]. */
export function sumAll(ctx: GpuContext, x: Tensor, opts: ReduceOptions = {}): Promise<Tensor> {
  return reduceRows(ctx, x, 1, numel(x.shape), 1, [1], opts);
}

/** Mean of every element, as a tensor of shape [1]. */
export function meanAll(ctx: GpuContext, x: Tensor, opts: ReduceOptions = {}): Promise<Tensor> {
  const n = numel(x.shape);
  return reduceRows(ctx, x, 1, n, 1 / n, [1], opts);
}
