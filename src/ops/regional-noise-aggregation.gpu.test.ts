// The regional noise aggregation kernel (Eq. 4-5) against its f64 plain-TS reference on odd latent sizes:
// guided and unguided, one region (its estimate is E) and several (soft overlapping masks whose sum
// passes 1, binary masks, pixels outside every region), α = 0.1, 0 and 1; on lavapipe with an f16 UNet
// output too. Outside every mask E* must be exactly E (no re-weighting), as the host form guarantees.
import { describe, expect, it } from 'vitest';
import { checked, testContext, TEST_ADAPTER } from '../../tests/gpu-harness';
import { compare, describeComparison, randomArray } from '../../tests/numeric';
import type { DType } from '../gpu/tensor';
import { regionalNoiseAggregation, regionalNoiseAggregationReference, type RegionalAggregation } from './regional-noise-aggregation';

interface Case {
  name: string;
  C: number;
  h: number;
  w: number;
  regions: number;
  rows: number;
  a: RegionalAggregation;
}

const CASES: Case[] = [
  { name: 'guided, 2 regions, 4×5×7, α 0.1', C: 4, h: 5, w: 7, regions: 2, rows: 4, a: { guided: true, scale: 5, alpha: 0.1, uncondRow: 0, allRow: 1, regionBase: 2 } },
  { name: 'unguided, 3 regions, 4×9×3, α 0.35', C: 4, h: 9, w: 3, regions: 3, rows: 4, a: { guided: false, scale: 1, alpha: 0.35, uncondRow: 0, allRow: 0, regionBase: 1 } },
  { name: 'guided, 1 region (E_u = E), 4×11×13', C: 4, h: 11, w: 13, regions: 1, rows: 2, a: { guided: true, scale: 7.5, alpha: 0.1, uncondRow: 0, allRow: 1, regionBase: null } },
  { name: 'guided, 2 regions, 6 channels 3×17, α 0', C: 6, h: 3, w: 17, regions: 2, rows: 4, a: { guided: true, scale: 3, alpha: 0, uncondRow: 0, allRow: 1, regionBase: 2 } },
  { name: 'guided, 3 regions, 4×37×29 (several workgroups), α 1', C: 4, h: 37, w: 29, regions: 3, rows: 5, a: { guided: true, scale: 4, alpha: 1, uncondRow: 0, allRow: 1, regionBase: 2 } },
];

/** Soft, overlapping masks with zeros: region u covers a band of columns, the last one only half. */
function masksOf(regions: number, h: number, w: number): Float32Array {
  const m = new Float32Array(regions * h * w);
  for (let u = 0; u < regions; u++)
    for (let p = 0; p < h * w; p++) {
      const x = p % w;
      const y = Math.floor(p / w);
      const inside = x >= u * 2 && x < u * 2 + Math.ceil(w / 2) && y < h - 1;
      m[u * h * w + p] = inside ? (u === regions - 1 && regions > 1 ? 0.5 : 1) * (x === u * 2 ? 0.6 : 1) : 0;
    }
  return m;
}

describe(`regional noise aggregation kernel on ${TEST_ADAPTER}`, () => {
  const dtypes: DType[] = TEST_ADAPTER === 'lavapipe' ? ['f32', 'f16'] : ['f32'];
  for (const dt of dtypes)
    for (const tc of CASES)
      it(`${tc.name} (${dt} UNet output)`, async () => {
        const ctx = await testContext();
        const n = tc.C * tc.h * tc.w;
        const pred = ctx.upload(randomArray(tc.rows * n, 5, -2, 2), [tc.rows, tc.C, tc.h, tc.w], dt, 'pred');
        const seen = await ctx.read(pred);
        const maskData = masksOf(tc.regions, tc.h, tc.w);
        const masks = ctx.upload(maskData, [tc.regions, tc.h, tc.w], 'f32', 'masks');
        const out = ctx.empty([tc.C, tc.h, tc.w], 'f32', 'E*');
        await checked(ctx, tc.name, () => regionalNoiseAggregation(ctx, pred, masks, out, tc.a));
        const got = await ctx.read(out);
        const want = regionalNoiseAggregationReference(seen, maskData, tc.regions, n, tc.a);
        const c = compare(got, want);
        console.log(`[regional aggregation ${TEST_ADAPTER} ${dt}] ${tc.name}: ${describeComparison(c)}`);
        expect(c.maxAbs, describeComparison(c)).toBeLessThan(1e-5);
        // outside every mask: E itself (the reference's E with all masks 0), within f32 rounding
        const plane = tc.h * tc.w;
        let outside = 0;
        const E = regionalNoiseAggregationReference(seen, new Float32Array(tc.regions * plane), tc.regions, n, tc.a);
        for (let i = 0; i < n; i++) {
          const p = i % plane;
          let total = 0;
          for (let u = 0; u < tc.regions; u++) total += maskData[u * plane + p]!;
          if (total === 0) {
            expect(Math.abs(got[i]! - E[i]!)).toBeLessThanOrEqual(1e-5);
            outside++;
          }
        }
        expect(outside).toBeGreaterThan(0);
        ctx.release(pred, masks, out);
      });

  it('refuses a pred without the rows the layout names, by name', async () => {
    const ctx = await testContext();
    const pred = ctx.empty([3, 4, 3, 5], 'f32', 'pred');
    const masks = ctx.empty([2, 3, 5], 'f32', 'masks');
    const out = ctx.empty([4, 3, 5], 'f32', 'out');
    await expect(regionalNoiseAggregation(ctx, pred, masks, out, { guided: true, scale: 5, alpha: 0.1, uncondRow: 0, allRow: 1, regionBase: 2 })).rejects.toThrow(/has no row 3/);
    await expect(regionalNoiseAggregation(ctx, pred, masks, out, { guided: true, scale: 5, alpha: 0.1, uncondRow: 0, allRow: 1, regionBase: null })).rejects.toThrow(/2 regions need their own passes/);
    ctx.release(pred, masks, out);
  });
});
