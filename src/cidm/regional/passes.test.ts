/**
 * The regional step's passes and guidance (issue 11 faults a and b): one scale for E and every E_u
 * (no seam at mask edges), and CFG off means no unconditional pass and unguided estimates.
 */
import { describe, expect, it } from 'vitest';
import { randomArray } from '../../../tests/numeric';
import { aggregateRegionNoise, guide } from './noise-aggregation';
import { combinePasses, regionalGuidance, regionalPasses } from './passes';

const n = 4 * 3 * 5;
const hw = 3 * 5;
/** Region 0 on the left two columns, region 1 a soft patch on the right. */
const masks = [Float32Array.from({ length: hw }, (_, p) => (p % 5 < 2 ? 1 : 0)), Float32Array.from({ length: hw }, (_, p) => (p % 5 >= 3 ? 0.5 : 0))];

describe('regional guidance', () => {
  it("is the run's CFG scale, or regionGuidance for E and E_u alike when the caller sets it", () => {
    expect(regionalGuidance({ guidanceScale: 5 })).toEqual({ guided: true, scale: 5 });
    expect(regionalGuidance({ guidanceScale: 5, regionGuidance: 7.5 })).toEqual({ guided: true, scale: 7.5 });
    expect(regionalGuidance({ guidanceScale: 1 })).toEqual({ guided: false, scale: 1 });
    expect(regionalGuidance({ guidanceScale: 5, regionGuidance: 1 })).toEqual({ guided: false, scale: 1 });
    expect(() => regionalGuidance({ guidanceScale: Number.NaN })).toThrow(RangeError);
  });

  it('plans [uncond, all, regions…] when guided and [all, regions…] without guidance; one region has no pass of its own', () => {
    expect(regionalPasses(2, true).map((p) => (p.kind === 'region' ? `r${p.region}` : p.kind))).toEqual(['uncond', 'all', 'r0', 'r1']);
    expect(regionalPasses(2, false).map((p) => (p.kind === 'region' ? `r${p.region}` : p.kind))).toEqual(['all', 'r0', 'r1']);
    expect(regionalPasses(1, true).map((p) => p.kind)).toEqual(['uncond', 'all']);
    expect(regionalPasses(1, false).map((p) => p.kind)).toEqual(['all']);
    expect(() => regionalPasses(0, true)).toThrow(RangeError);
  });
});

describe('combining the passes into E*', () => {
  it('guides E and every E_u with the same scale: where a region pass equals the all pass there is no seam (E* = E)', () => {
    const unc = randomArray(n, 1);
    const all = randomArray(n, 2);
    const g = regionalGuidance({ guidanceScale: 5 });
    const pred = new Float32Array(4 * n);
    [unc, all, all, all].forEach((x, b) => pred.set(x, b * n));
    const out = combinePasses(pred, regionalPasses(2, true), g, masks, 0.1);
    const E = guide(unc, all, 5);
    for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(E[i]!, 5);
  });

  it('guided: E = CFG(all), E_u = CFG(region u) with the run scale, blended by Eq. 5', () => {
    const [unc, all, r0, r1] = [1, 2, 3, 4].map((s) => randomArray(n, s));
    const pred = new Float32Array(4 * n);
    [unc!, all!, r0!, r1!].forEach((x, b) => pred.set(x, b * n));
    const got = combinePasses(pred, regionalPasses(2, true), regionalGuidance({ guidanceScale: 6 }), masks, 0.1);
    const want = aggregateRegionNoise(guide(unc!, all!, 6), [guide(unc!, r0!, 6), guide(unc!, r1!, 6)], masks, 0.1);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('without guidance E and E_u are the unguided estimates, from passes with no unconditional one', () => {
    const [all, r0, r1] = [2, 3, 4].map((s) => randomArray(n, s));
    const pred = new Float32Array(3 * n);
    [all!, r0!, r1!].forEach((x, b) => pred.set(x, b * n));
    const got = combinePasses(pred, regionalPasses(2, false), regionalGuidance({ guidanceScale: 1 }), masks, 0.1);
    expect(Array.from(got)).toEqual(Array.from(aggregateRegionNoise(all!, [r0!, r1!], masks, 0.1)));
    // one region: E_1 is E, so E* = E = the single pass exactly
    const one = randomArray(n, 9);
    expect(Array.from(combinePasses(one, regionalPasses(1, false), regionalGuidance({ guidanceScale: 1 }), [masks[0]!], 0.1))).toEqual(Array.from(one));
  });

  it('names a mismatch between the prediction and the passes', () => {
    expect(() => combinePasses(new Float32Array(3 * n + 1), regionalPasses(2, false), regionalGuidance({ guidanceScale: 1 }), masks, 0.1)).toThrow(/passes/);
  });
});
