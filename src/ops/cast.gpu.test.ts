import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { randomArray } from '../../tests/numeric';
import { FeatureMissingError } from '../gpu/errors';
import { roundToF16 } from '../gpu/f16';
import { castTo, castToF32 } from './cast';

describe(`castTo on ${TEST_ADAPTER}`, () => {
  it('copies f32 to f32 into a new tensor, bit for bit', async () => {
    const ctx = await testContext();
    const x = randomArray(1001, 4, -1e4, 1e4);
    const t = ctx.upload(x, [7, 11, 13], 'f32', 'x');
    const y = await checked(ctx, 'cast f32', () => castToF32(ctx, t));
    expect(y.buffer).not.toBe(t.buffer);
    expect(y.shape).toEqual([7, 11, 13]);
    expect(Array.from(await ctx.read(y))).toEqual(Array.from(x));
    ctx.release(t, y);
  });

  it('converts between f16 and f32 where shader-f16 exists, and refuses f16 where not', async () => {
    const ctx = await testContext();
    const x = randomArray(333, 5, -60000, 60000).map((v, i) => (i % 3 ? v / 1e4 : v));
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      const t32 = ctx.upload(x, [333], 'f32', 'x32');
      const t16 = await checked(ctx, 'cast f32→f16', () => castTo(ctx, t32, 'f16'));
      expect(t16.dtype).toBe('f16');
      const back = await checked(ctx, 'cast f16→f32', () => castToF32(ctx, t16));
      expect(back.dtype).toBe('f32');
      // each value rounded to f16 (within f16's range: WGSL leaves overflow to the implementation)
      const expected = roundToF16(x);
      const got = await ctx.read(back);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!) / Math.abs(x[i]!));
      expect(worst).toBeLessThanOrEqual(2 ** -11);
      expect(Array.from(await ctx.read(t16))).toEqual(Array.from(got));
      ctx.release(t32, t16, back);
    } else {
      expect(ctx.hasF16).toBe(false);
      const t = ctx.upload(x, [333], 'f32', 'x');
      await expect(castTo(ctx, t, 'f16')).rejects.toThrow(FeatureMissingError);
      ctx.release(t);
    }
  });
});
