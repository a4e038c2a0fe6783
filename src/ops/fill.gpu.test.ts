import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { fill, fillReference } from './fill';
import { FeatureMissingError } from '../gpu/errors';

describe(`fill on ${TEST_ADAPTER}`, () => {
  it('fills odd-sized f32 tensors exactly', async () => {
    const ctx = await testContext();
    for (const n of [1, 17, 1000, 65537]) {
      const t = ctx.empty([n], 'f32', 'fill-test');
      const got = await checked(ctx, `fill ${n}`, async () => ctx.read(await fill(ctx, t, 1.5)));
      expect(Array.from(got)).toEqual(Array.from(fillReference(n, 1.5)));
      ctx.release(t);
    }
  });

  it('fills f16 tensors where shader-f16 exists, and names the missing feature where not', async () => {
    const ctx = await testContext();
    if (TEST_ADAPTER === 'lavapipe') {
      expect(ctx.hasF16).toBe(true);
      const t = ctx.empty([33], 'f16', 'fill-f16');
      const got = await checked(ctx, 'fill f16', async () => ctx.read(await fill(ctx, t, -0.25)));
      expect(Array.from(got)).toEqual(Array.from(fillReference(33, -0.25)));
    } else {
      expect(ctx.hasF16).toBe(false);
      expect(() => ctx.empty([33], 'f16', 'fill-f16')).toThrow(FeatureMissingError);
    }
  });
});
