/**
 * concat(ctx, inputs, axis): torch.cat(inputs, dim=axis) for tensors of one dtype that agree on every
 * other dimension. One dispatch per input (shaders/concat.wgsl). concatChannels is the UNet's
 * skip-connection form, cat([h, skip], dim=1) on NCHW tensors with different channel counts.
 */
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import type { KernelDescriptor } from '../gpu/kernel';
import { binding, numel, sameShape, describe, type DType, type Tensor } from '../gpu/tensor';
import { grid1d } from './grid';
import source from '../../shaders/concat.wgsl?raw';

const WG = 256;

export const concatKernel: KernelDescriptor<{ dtype: DType }> = {
  name: 'concat',
  source,
  defines: ({ dtype }) => ({ DTYPE: dtype }),
  constants: () => ({ WG }),
};

/** The shape of cat(shapes, axis); throws when ranks, dtypes or the other dimensions disagree. */
export function concatShape(shapes: readonly (readonly number[])[], axis: number): number[] {
  const first = shapes[0];
  if (!first) throw new RangeError('concat: no inputs');
  const rank = first.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= rank) throw new RangeError(`concat: axis ${axis} out of range for rank ${rank}`);
  const out = [...first];
  out[ax] = 0;
  for (const s of shapes) {
    const ok = s.length === rank && s.every((d, i) => i === ax || d === first[i]);
    if (!ok) throw new RangeError(`concat: [${s.join(', ')}] does not match [${first.join(', ')}] off axis ${ax}`);
    out[ax] += s[ax]!;
  }
  return out;
}

export interface ConcatOptions {
  /** Destination of the concatenated shape and the inputs' dtype; allocated when absent. */
  out?: Tensor;
}

export async function concat(
  ctx: GpuContext,
  inputs: readonly Tensor[],
  axis: number,
  options: ConcatOptions = {},
): Promise<Tensor> {
  const outShape = concatShape(inputs.map((t) => t.shape), axis);
  const dtype = inputs[0]!.dtype;
  if (inputs.some((t) => t.dtype !== dtype)) throw new RangeError(`concat: mixed dtypes ${inputs.map(describe).join(', ')}`);
  if (dtype === 'f16' && !ctx.hasF16) throw new FeatureMissingError('shader-f16', 'concat of f16 tensors');
  const ax = axis < 0 ? axis + outShape.length : axis;
  const out = options.out ?? ctx.empty(outShape, dtype, 'concat-out');
  if (!sameShape(out.shape, outShape) || out.dtype !== dtype) {
    throw new RangeError(`concat: out is ${describe(out)}, expected ${dtype}[${outShape.join('×')}]`);
  }
  const inner = numel(outShape.slice(ax + 1));
  const outRow = outShape[ax]! * inner;
  const k = await ctx.kernel(concatKernel, { dtype });
  let offset = 0;
  for (const t of inputs) {
    const inRow = t.shape[ax]! * inner;
    const count = numel(t.shape);
    if (count > 0) {
      ctx.dispatch(k, {
        uniforms: { count, in_row: inRow, out_row: outRow, out_offset: offset },
        bindings: [binding(t), binding(out)],
        workgroups: grid1d(count, WG),
      });
    }
    offset += inRow;
  }
  return out;
}

/** cat([a, b], dim=1) of NCHW tensors (UNet up-block skip connections). */
export async function concatChannels(ctx: GpuContext, a: Tensor, b: Tensor, options: ConcatOptions = {}): Promise<Tensor> {
  if (a.shape.length !== 4 || b.shape.length !== 4) {
    throw new RangeError(`concatChannels: NCHW inputs expected, got ${describe(a)} and ${describe(b)}`);
  }
  return concat(ctx, [a, b], 1, options);
}
