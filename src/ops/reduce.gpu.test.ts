import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType, Tensor } from '../gpu/tensor';
import { meanAll, meanLastAxis, sumAll, sumLastAxis, type ReduceOptions } from './reduce';
import { rowSumReference, sum64 } from './reductions.reference';

const F32_TOL = 1e-5;
const F16_TOL = 2e-3;

type Reduction = (ctx: GpuContext, x: Tensor, opts?: ReduceOptions) => Promise<Tensor>;

/** Data in [-0.5, 1]: sums do not cancel to ~0, so "relative to the output scale" stays meaningful. */
async function reduceCase(
  ctx: GpuContext,
  fn: Reduction,
  shape: number[],
  want: (x: Float32Array) => ArrayLike<number>,
  opts: ReduceOptions & { input?: DType } = {},
) {
  const n = shape.reduce((p, d) => p * d, 1);
  let x = randomArray(n, n + shape.length, -0.5, 1);
  const dtype = opts.input ?? 'f32';
  if (dtype === 'f16') x = roundToF16(x);
  const t = ctx.upload(x, shape, dtype, 'x');
  const what = `${fn.name} ${dtype}->${opts.dtype ?? dtype} [${shape}]${opts.segmentLength ? ` seg ${opts.segmentLength}` : ''}`;
  const { input: _, ...reduceOpts } = opts;
  const out = await checked(ctx, what, () => fn(ctx, t, reduceOpts));
  const got = await ctx.read(out);
  ctx.release(t, out);
  const c = compare(got, want(x));
  if (process.env.CIDM_VERBOSE) console.log(`${what}: ${describeComparison(c)}`);
  const tol = (opts.dtype ?? dtype) === 'f16' ? F16_TOL : F32_TOL;
  expect(c.maxRel, `${what}: ${describeComparison(c)}`).toBeLessThanOrEqual(tol);
  return out;
}

const rowShapes = [[7, 1], [3, 17], [5, 1000], [2, 4097], [1, 65537], [2, 3, 33]];
const last = (shape: number[]) => shape[shape.length - 1]!;

describe(`sum/mean reductions on ${TEST_ADAPTER}`, () => {
  it('sums and averages over the last axis for odd row lengths (multi-pass above 4096)', async () => {
    const ctx = await testContext();
    for (const shape of rowShapes) {
      await reduceCase(ctx, sumLastAxis, shape, (x) => rowSumReference(x, last(shape)));
      await reduceCase(ctx, meanLastAxis, shape, (x) => rowSumReference(x, last(shape), true));
    }
  });

  it('gives the documented result shapes', async () => {
    const ctx = await testContext();
    const x = ctx.upload(randomArray(2 * 3 * 5, 1), [2, 3, 5], 'f32', 'x');
    const shapes: number[][] = [];
    for (const out of [await sumLastAxis(ctx, x), await meanLastAxis(ctx, x, { keepDim: true }), await sumAll(ctx, x)]) {
      shapes.push([...out.shape]);
      ctx.release(out);
    }
    expect(shapes).toEqual([[2, 3], [2, 3, 1], [1]]);
    ctx.release(x);
  });

  it('sums and averages whole tensors of 1, 17, 1000 and 65537 elements', async () => {
    const ctx = await testContext();
    for (const n of [1, 17, 1000, 65537]) {
      await reduceCase(ctx, sumAll, [n], (x) => [sum64(x)]);
      await reduceCase(ctx, meanAll, [n], (x) => [sum64(x) / n]);
    }
    await reduceCase(ctx, sumAll, [3, 5, 7, 11], (x) => [sum64(x)]);
  });

  it('chains five passes with short segments (65537 -> 4097 -> 257 -> 17 -> 2 -> 1)', async () => {
    const ctx = await testContext();
    await reduceCase(ctx, meanAll, [65537], (x) => [sum64(x) / 65537], { segmentLength: 16 });
    await reduceCase(ctx, sumLastAxis, [3, 4099], (x) => rowSumReference(x, 4099), { segmentLength: 5 });
  });

  it('packs short rows many to a workgroup, and spills a grid of more than 65535 workgroups into y', async () => {
    const ctx = await testContext();
    await reduceCase(ctx, sumLastAxis, [65537, 2], (x) => rowSumReference(x, 2)); // 1 invocation per row
    await reduceCase(ctx, meanLastAxis, [1001, 33], (x) => rowSumReference(x, 33, true)); // 4 per row
    // 65536 workgroups of one-element rows: out[r] = x[r] pins every row's position.
    await reduceCase(ctx, sumLastAxis, [65535 * 256 + 3, 1], (x) => x);
  });

  it('reads f16 and writes f16 or f32 where shader-f16 exists, and names the missing feature where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER !== 'lavapipe') {
      expect(ctx.hasF16).toBe(false);
      const t = ctx.upload(randomArray(17, 1), [17], 'f32', 'x');
      await expect(sumAll(ctx, t, { dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      ctx.release(t);
      return;
    }
    expect(ctx.hasF16).toBe(true);
    for (const shape of [[3, 17], [2, 4097]]) {
      await reduceCase(ctx, meanLastAxis, shape, (x) => rowSumReference(x, last(shape), true), { input: 'f16' });
      await reduceCase(ctx, sumLastAxis, shape, (x) => rowSumReference(x, last(shape)), { input: 'f16', dtype: 'f32' });
    }
    // f32 accumulation: 65537 f16 values summed into an f32 result meet the f32 tolerance (an f16
    // accumulator would be off by whole units once the running sum passes 2048).
    await reduceCase(ctx, sumAll, [65537], (x) => [sum64(x)], { input: 'f16', dtype: 'f32' });
    await reduceCase(ctx, meanAll, [65537], (x) => [sum64(x) / 65537], { input: 'f16' });
  });
});
