// CFG + guidance rescale in one workgroup (cfg-rescale.ts) against its f64 reference and against the host
// loop's own form (sdxl-conditioning classifierFreeGuidance → guidance-rescale.ts), on odd sizes: fewer
// values than invocations, several per invocation, a mean far from 0 (the two-pass std keeps it exact),
// φ = 0, 0.7 and 1; on lavapipe with an f16 UNet output too.
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import type { DType } from '../gpu/tensor';
import { classifierFreeGuidance } from '../diffusion/sdxl-conditioning';
import { cfgRescale, cfgRescaleReference } from './cfg-rescale';

const CASES = [
  { name: '4×3×5 (under one value per invocation), φ 0.7', n: 60, g: 5, phi: 0.7, offset: 0 },
  { name: '4×13×11, φ 1, mean 3', n: 572, g: 7.5, phi: 1, offset: 3 },
  { name: '4×37×29, φ 0 (plain CFG)', n: 4292, g: 3, phi: 0, offset: 0 },
];

describe(`cfg rescale kernel on ${TEST_ADAPTER}`, () => {
  const dtypes: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
  for (const dt of dtypes)
    for (const tc of CASES)
      it(`${tc.name} (${dt} UNet output)`, async () => {
        const ctx = await testContext();
        const raw = randomArray(2 * tc.n, 11, -2, 2).map((v, i) => v + tc.offset + (i >= tc.n ? 0.5 * v : 0));
        const pred = ctx.upload(raw, [2, tc.n], dt, 'pred');
        const seen = await ctx.read(pred);
        const out = ctx.empty([tc.n], 'f32', 'guided');
        await checked(ctx, tc.name, () => cfgRescale(ctx, pred, out, tc.g, tc.phi));
        const got = await ctx.read(out);
        const ref = compare(got, cfgRescaleReference(seen, tc.g, tc.phi));
        const host = compare(got, classifierFreeGuidance(seen, tc.g, tc.phi));
        expect(ref.maxRel, describeComparison(ref)).toBeLessThan(2e-6);
        expect(host.maxRel, describeComparison(host)).toBeLessThan(2e-6);
        ctx.release(pred, out);
      });

  it('refuses a pred that is not two rows of the output, by name', async () => {
    const ctx = await testContext();
    const pred = ctx.empty([2, 7], 'f32', 'pred');
    const out = ctx.empty([6], 'f32', 'out');
    await expect(cfgRescale(ctx, pred, out, 5, 0.7)).rejects.toThrow(/not two rows of 6/);
    ctx.release(pred, out);
  });
});
