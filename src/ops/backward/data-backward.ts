/**
 * Backward of the UNet's data-movement ops (forwards in src/ops/upsample.ts, src/ops/concat.ts and the
 * broadcasting adds of src/ops/elementwise.ts):
 *   upsampleNearestBackward  the gradient of nearest upsampling, any output size
 *   split / splitChannels / splitLast  the gradient of a concatenation
 *   reduceToShape            the gradient of a numpy broadcast (sum over the broadcast axes)
 */
import type { GpuContext } from '../../gpu/context';
import { FeatureMissingError } from '../../gpu/errors';
import { ceilDiv, type KernelDescriptor } from '../../gpu/kernel';
import { binding, describe, numel, type DType, type Tensor } from '../../gpu/tensor';
import { grid1d } from '../grid';
import { sumLastAxis } from '../reduce';
import { nearestScale } from '../small-ops.reference';
import { stridedCopy } from '../strided-copy';
import upsampleSource from '../../../shaders/upsample_backward.wgsl?raw';
import reduceAxisSource from '../../../shaders/reduce_axis.wgsl?raw';

const WG = 256;

export const upsampleNearestBackwardKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'upsample-nearest-backward',
  source: upsampleSource,
  defines: ({ dtype }) => ({ DTYPE: dtype }),
  constants: () => ({ WG }),
};

/**
 * upsampleNearestBackward(ctx, dY, inputSize): the gradient of upsampleNearest (src/ops/upsample.ts,
 * F.interpolate mode='nearest') for any output size: dX[n, c, i, j] sums dY over every output pixel
 * whose nearest source is (i, j) (shaders/upsample_backward.wgsl). For diffusers' 2× Upsample2D that
 * is a 2×2 box sum; an explicit output_size (4×5 → 7×10) gives runs of 1 or 2.
 *
 * dX [N, C, h, w] from dY [N, C, outH, outW] of y = upsampleNearest(x, {outputSize: [outH, outW]}).
 */
export async function upsampleNearestBackward(ctx: GpuContext, dY: Tensor, inputSize: readonly [number, number]): Promise<Tensor> {
  if (dY.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'upsample backward on f16 tensors');
  if (dY.shape.length !== 4) throw new RangeError(`upsampleNearestBackward: dY must be NCHW, got ${describe(dY)}`);
  const [n, c, outH, outW] = dY.shape as [number, number, number, number];
  const [h, w] = inputSize;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0 && outH > 0 && outW > 0)) {
    throw new RangeError(`upsampleNearestBackward: bad sizes ${h}x${w} -> ${outH}x${outW}`);
  }
  const out = ctx.empty([n, c, h, w], dY.dtype, 'upsample-backward');
  const count = numel(out.shape);
  if (count === 0) return out;
  const k = await ctx.kernel(upsampleNearestBackwardKernel, { dtype: dY.dtype });
  ctx.dispatch(k, {
    uniforms: { count, in_h: h, in_w: w, out_h: outH, out_w: outW, scale_h: nearestScale(h, outH), scale_w: nearestScale(w, outW) },
    bindings: [binding(dY), binding(out)],
    workgroups: grid1d(count, WG),
  });
  return out;
}

/**
 * The backward of a concatenation: split(x, sizes, axis) cuts x along `axis` into pieces of the given
 * sizes (torch.split with a list), so dY of cat([a, b], axis) becomes [da, db].
 *   splitChannels: NCHW along C (the UNet's skip connections, cat([h, skip], dim=1)).
 *   splitLast:     [..., C] along the last axis (concat along the last axis, e.g. the two text
 *                  encoders' hidden states).
 * Each piece is one strided copy (src/ops/strided-copy.ts): x seen as [outer, total·inner] rows, the
 * piece as the column range [offset·inner, (offset + size)·inner) of every row. Offsets travel in
 * uniforms, so no piece needs an aligned binding offset, f16 included.
 */
export async function split(ctx: GpuContext, x: Tensor, sizes: readonly number[], axis: number): Promise<Tensor[]> {
  const rank = x.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= rank) throw new RangeError(`split: axis ${axis} out of range for ${describe(x)}`);
  const total = x.shape[ax]!;
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((a, b) => a + b, 0) !== total) {
    throw new RangeError(`split: sizes [${sizes.join(', ')}] do not add up to ${total} along axis ${ax} of ${describe(x)}`);
  }
  if (x.dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'split of f16 tensors');
  const outer = numel(x.shape.slice(0, ax));
  const inner = numel(x.shape.slice(ax + 1));
  const pieces: Tensor[] = [];
  let offset = 0;
  for (const size of sizes) {
    const shape = x.shape.map((d, i) => (i === ax ? size : d));
    const piece = ctx.empty(shape, x.dtype, 'split');
    pieces.push(piece);
    await stridedCopy(ctx, x, piece, { rows: outer, cols: size * inner, srcOffset: offset * inner, srcStride: total * inner });
    offset += size;
  }
  return pieces;
}

/** Backward of concatChannels: NCHW x split along C. */
export function splitChannels(ctx: GpuContext, x: Tensor, sizes: readonly number[]): Promise<Tensor[]> {
  if (x.shape.length !== 4) throw new RangeError(`splitChannels: x must be NCHW, got ${describe(x)}`);
  return split(ctx, x, sizes, 1);
}

/** Backward of a concatenation along the last axis of [..., C]. */
export function splitLast(ctx: GpuContext, x: Tensor, sizes: readonly number[]): Promise<Tensor[]> {
  if (x.shape.length === 0) throw new RangeError('splitLast: x needs at least one axis');
  return split(ctx, x, sizes, -1);
}

/** A middle-axis pass splits its axis into segments until about this many invocations are busy. */
const TARGET_THREADS = 16384;
/** …but never into segments shorter than this (a second pass over tiny segments costs more than it saves). */
const MIN_SEGMENT = 16;

interface Variant {
  input: DType;
  output: DType;
}

export const reduceAxisKernel: KernelDescriptor<Variant> = {
  name: 'reduce-axis',
  source: reduceAxisSource,
  defines: (v) => ({ IN_T: v.input, OUT_T: v.output, F16: v.input === 'f16' || v.output === 'f16' }),
  constants: () => ({ WG }),
};

export interface Block {
  size: number;
  reduce: boolean;
}

/** The alternating kept/reduced blocks of a broadcast from `shape` to `from` (size-1 axes dropped). */
export function broadcastBlocks(from: readonly number[], shape: readonly number[]): Block[] {
  if (shape.length > from.length) {
    throw new RangeError(`reduceToShape: [${shape.join(', ')}] has more axes than [${from.join(', ')}]`);
  }
  const target = [...new Array<number>(from.length - shape.length).fill(1), ...shape];
  const blocks: Block[] = [];
  from.forEach((d, i) => {
    const t = target[i]!;
    if (t !== d && t !== 1) {
      throw new RangeError(`reduceToShape: [${shape.join(', ')}] does not broadcast to [${from.join(', ')}] (axis ${i}: ${t} vs ${d})`);
    }
    if (d === 1) return;
    const reduce = t !== d;
    const last = blocks[blocks.length - 1];
    if (last && last.reduce === reduce) last.size *= d;
    else blocks.push({ size: d, reduce });
  });
  return blocks;
}

const prod = (bs: readonly Block[]) => bs.reduce((p, b) => p * b.size, 1);

/**
 * reduceToShape(ctx, dY, shape): the backward of a numpy-broadcast: sums dY over every axis that the
 * forward broadcast, back to `shape` ([B, C, H, W] → [B, C, 1, 1] for the time-embedding add,
 * [B, T, C] → [1, T, C] for a batch broadcast, [N, C, H, W] → [1, C, 1, 1] for a conv bias).
 *
 * `shape` is right-aligned with dY's shape (missing leading axes count as 1); every axis must equal
 * dY's or be 1. Adjacent axes of the same kind merge, leaving alternating kept/reduced blocks, and the
 * innermost reduced block is summed one pass at a time: a trailing block by sumLastAxis
 * (src/ops/reduce.ts, segmented tree sums), any other by a middle-axis sum (shaders/reduce_axis.wgsl).
 * Intermediates are f32; the result has dY's dtype. With nothing to reduce it returns a copy.
 */
export async function reduceToShape(ctx: GpuContext, dY: Tensor, shape: readonly number[]): Promise<Tensor> {
  const dtype = dY.dtype;
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'reduceToShape on f16 tensors');
  let blocks = broadcastBlocks(dY.shape, shape);
  const out = ctx.empty(shape, dtype, 'reduce-to-shape');
  if (numel(dY.shape) === 0 || numel(shape) === 0) {
    if (numel(shape) !== 0) throw new RangeError(`reduceToShape: ${describe(dY)} is empty, [${shape.join(', ')}] is not`);
    return out;
  }
  if (!blocks.some((b) => b.reduce)) {
    ctx.copyTensor(dY, out);
    return out;
  }

  const temps: Tensor[] = [];
  let input = dY;
  for (;;) {
    const b = blocks.map((x) => x.reduce).lastIndexOf(true);
    const outer = prod(blocks.slice(0, b));
    const len = blocks[b]!.size;
    const inner = prod(blocks.slice(b + 1));
    let segs = 1;
    if (inner > 1 && outer * inner < TARGET_THREADS && len >= 2 * MIN_SEGMENT) {
      segs = Math.min(ceilDiv(TARGET_THREADS, outer * inner), Math.floor(len / MIN_SEGMENT));
      segs = ceilDiv(len, ceilDiv(len, segs));
    }
    const next = segs > 1 ? [...blocks.slice(0, b), { size: segs, reduce: true }, ...blocks.slice(b + 1)] : merge(blocks, b);
    const last = !next.some((x) => x.reduce);
    const dst = last ? out : ctx.empty([outer * segs * inner], 'f32', 'reduce-to-shape partials');
    if (!last) temps.push(dst);
    if (inner === 1) {
      await sumLastAxis(ctx, { ...input, shape: [outer, len] }, { out: dst, label: 'reduce-to-shape' });
    } else {
      const k = await ctx.kernel(reduceAxisKernel, { input: input.dtype, output: dst.dtype });
      const count = outer * segs * inner;
      ctx.dispatch(k, {
        uniforms: { count, len, inner, segs, seg_len: ceilDiv(len, segs) },
        bindings: [binding(input), binding(dst)],
        workgroups: grid1d(count, WG),
      });
    }
    if (last) break;
    input = dst;
    blocks = next;
  }
  // Pooled intermediates go back only once the GPU is done with them (as in src/ops/reduce.ts).
  if (temps.length) {
    ctx.submit().then(
      () => ctx.release(...temps),
      () => undefined,
    );
  }
  return out;
}

/** Blocks with block b summed away; its kept neighbours become one block. */
function merge(blocks: readonly Block[], b: number): Block[] {
  const before = blocks.slice(0, b);
  const after = blocks.slice(b + 1);
  const l = before[before.length - 1];
  const r = after[0];
  if (l && r && !l.reduce && !r.reduce) return [...before.slice(0, -1), { size: l.size * r.size, reduce: false }, ...after.slice(1)];
  return [...before, ...after];
}
