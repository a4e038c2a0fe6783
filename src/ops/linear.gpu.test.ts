import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import type { GpuContext } from '../gpu/context';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType, Tensor } from '../gpu/tensor';
import { linear } from './linear';
import type { MatmulVariant } from './matmul';
import { linearReference } from './matmul.reference';

let seed = 100;

/** y = x·Wᵀ + b on the GPU against the f64 reference; returns the relative error. */
async function check(
  ctx: GpuContext,
  xShape: number[],
  outF: number,
  withBias: boolean,
  variant: MatmulVariant,
  dtype: DType = 'f32',
): Promise<void> {
  const inF = xShape[xShape.length - 1]!;
  const round = (v: Float32Array) => (dtype === 'f16' ? roundToF16(v) : v);
  const x = round(randomArray(xShape.reduce((a, b) => a * b, 1), seed++));
  const w = round(randomArray(outF * inF, seed++, -0.5, 0.5));
  const bias = withBias ? round(randomArray(outF, seed++)) : undefined;
  const tx = ctx.upload(x, xShape, dtype, 'x');
  const tw = ctx.upload(w, [outF, inF], dtype, 'weight');
  const tb = bias ? ctx.upload(bias, [outF], dtype, 'bias') : undefined;
  const tag = `${dtype} ${variant} linear [${xShape.join('×')}]·[${outF}×${inF}]ᵀ${bias ? '+b' : ''}`;
  let y: Tensor | undefined;
  const got = await checked(ctx, tag, async () => {
    y = await linear(ctx, tx, tw, tb, { variant });
    return ctx.read(y);
  });
  const ref = linearReference(x, xShape, w, [outF, inF], bias);
  expect(y!.shape).toEqual(ref.shape);
  expect(y!.shape).toEqual([...xShape.slice(0, -1), outF]);
  const cmp = compare(got, ref.data);
  expect(cmp.maxRel, `${tag}: ${describeComparison(cmp)}`).toBeLessThanOrEqual(dtype === 'f16' ? 2e-3 : 1e-5);
  expect(cmp.scale).toBeGreaterThan(0);
  ctx.release(tx, tw, y!, ...(tb ? [tb] : []));
}

describe(`linear on ${TEST_ADAPTER}`, () => {
  it.each(['naive', 'tiled', 'auto'] as const)('%s: PyTorch-layout weight, 3-D, 2-D and 1-D inputs', async (variant) => {
    const ctx = await testContext();
    await check(ctx, [2, 5, 33], 65, true, variant); // odd sizes: scalar loads
    await check(ctx, [3, 40], 24, true, variant); // aligned: vec4 loads of x and of W rows
    await check(ctx, [37], 19, false, variant);
  });

  it('rejects an input whose last dimension is not in_features', async () => {
    const ctx = await testContext();
    const x = ctx.upload(randomArray(12, 1), [3, 4], 'f32', 'x');
    const w = ctx.upload(randomArray(10, 2), [2, 5], 'f32', 'w');
    await expect(linear(ctx, x, w)).rejects.toThrow(/in_features=5/);
    ctx.release(x, w);
  });

  it('f16 where shader-f16 exists, FeatureMissingError where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      await check(ctx, [2, 5, 33], 65, true, 'tiled', 'f16');
      await check(ctx, [3, 40], 24, true, 'naive', 'f16');
    } else {
      expect(ctx.hasF16).toBe(false);
      const buf = ctx.upload(new Float32Array(8), [8], 'f32', 'fake');
      const fake = (shape: number[]): Tensor => ({ shape, dtype: 'f16', buffer: buf.buffer, offset: 0 });
      await expect(linear(ctx, fake([2, 4]), fake([3, 4]), fake([3]))).rejects.toThrow(FeatureMissingError);
      ctx.release(buf);
    }
  });
});
