import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { randomArray } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import type { DType } from '../gpu/tensor';
import type { GpuContext } from '../gpu/context';
import { upsampleNearest } from './upsample';
import { nearestSourceIndex, upsampleNearestReference } from './small-ops.reference';

type Case = { shape: [number, number, number, number]; size?: [number, number] };

const CASES: Case[] = [
  { shape: [2, 3, 5, 7] }, // 2x, odd H and W
  { shape: [1, 1, 1, 1] },
  { shape: [1, 3, 7, 10], size: [13, 19] }, // odd output size
  { shape: [1, 2, 4, 5], size: [7, 10] }, // the golden op_upsample_output_size geometry
  { shape: [1, 2, 14, 6], size: [46, 13] }, // torch's float32 index differs from exact floor here
  { shape: [2, 2, 9, 11], size: [4, 6] }, // nearest down-sizing uses the same rule
];

async function run(ctx: GpuContext, c: Case, dtype: DType, data: Float32Array): Promise<Float32Array> {
  const x = ctx.upload(data, c.shape, dtype, 'upsample-in');
  const got = await checked(ctx, `upsample ${dtype}[${c.shape.join('×')}] -> ${c.size ?? '2x'}`, async () => {
    const out = await upsampleNearest(ctx, x, c.size ? { outputSize: c.size } : {});
    const values = await ctx.read(out);
    ctx.release(out);
    return values;
  });
  ctx.release(x);
  return got;
}

describe(`upsampleNearest on ${TEST_ADAPTER}`, () => {
  it('indexes like torch: floor(dst·in/out), with the scale and product in float32', () => {
    expect(Array.from({ length: 7 }, (_, d) => nearestSourceIndex(d, 4, 7))).toEqual([0, 0, 1, 1, 2, 2, 3]);
    expect(Array.from({ length: 13 }, (_, d) => nearestSourceIndex(d, 7, 13))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
    expect(Array.from({ length: 10 }, (_, d) => nearestSourceIndex(d, 5, 10))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    // f32(14/46) rounds down and 23·scale = 6.99999... rounds below 7 in float32: torch's floorf gives 6,
    // where exact arithmetic gives 7 (aten/src/ATen/native/UpSample.h nearest_idx).
    expect(nearestSourceIndex(23, 14, 46)).toBe(6);
    expect(Math.floor((23 * 14) / 46)).toBe(7);
  });

  it('matches the reference exactly on odd f32 shapes and output sizes', async () => {
    const ctx = await testContext();
    for (const [i, c] of CASES.entries()) {
      const [n, ch, h, w] = c.shape;
      const [oh, ow] = c.size ?? [2 * h, 2 * w];
      const data = randomArray(n * ch * h * w, 40 + i);
      const got = await run(ctx, c, 'f32', data);
      expect(Array.from(got), JSON.stringify(c)).toEqual(Array.from(upsampleNearestReference(data, c.shape, oh, ow)));
    }
  });

  it('copies f16 storage exactly where shader-f16 exists, and refuses it where not', async () => {
    const ctx = await testContext();
    const c = CASES[2]!;
    const data = roundToF16(randomArray(3 * 7 * 10, 5));
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      for (const k of [CASES[0]!, c]) {
        const [n, ch, h, w] = k.shape;
        const values = roundToF16(randomArray(n * ch * h * w, 9));
        const [oh, ow] = k.size ?? [2 * h, 2 * w];
        const got = await run(ctx, k, 'f16', values);
        expect(Array.from(got)).toEqual(Array.from(upsampleNearestReference(values, k.shape, oh, ow)));
      }
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => ctx.upload(data, c.shape, 'f16', 'upsample-f16')).toThrow(FeatureMissingError);
      const f32 = ctx.upload(data, c.shape, 'f32', 'upsample-fake');
      await expect(upsampleNearest(ctx, { ...f32, dtype: 'f16' })).rejects.toThrow(FeatureMissingError);
      ctx.release(f32);
    }
  });

  it('rejects non-NCHW input and bad sizes', async () => {
    const ctx = await testContext();
    const x = ctx.upload(new Float32Array(6), [1, 2, 3], 'f32', 'upsample-bad');
    await expect(upsampleNearest(ctx, x)).rejects.toThrow(RangeError);
    const y = ctx.upload(new Float32Array(6), [1, 1, 2, 3], 'f32', 'upsample-bad2');
    await expect(upsampleNearest(ctx, y, { outputSize: [0, 4] })).rejects.toThrow(RangeError);
    ctx.release(x, y);
  });
});
