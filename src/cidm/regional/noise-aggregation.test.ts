import { describe, expect, it } from 'vitest';
import { aggregateRegionNoise, guide } from './noise-aggregation';
import { randomArray } from '../../../tests/numeric';

const HW = 12;
const C = 4;
const E = randomArray(C * HW, 1);
const E1 = randomArray(C * HW, 2);
const E2 = randomArray(C * HW, 3);
const mask = (f: (p: number) => number) => Float32Array.from({ length: HW }, (_, p) => f(p));

/** The spec's corrected Eq. 5 for binary masks, written literally (§4.3 / §9.3). */
function specBinary(e: Float32Array, regions: Float32Array[], masks: Float32Array[], alpha: number): Float64Array {
  const out = new Float64Array(e.length);
  for (let i = 0; i < e.length; i++) {
    const p = i % HW;
    const cnt = masks.reduce((s, m) => s + m[p]!, 0);
    const any = cnt > 0 ? 1 : 0;
    const sum = regions.reduce((s, r, u) => s + masks[u]![p]! * r[i]!, 0);
    out[i] = e[i]! * (1 - any) + any * (alpha * e[i]! + ((1 - alpha) * sum) / Math.max(cnt, 1));
  }
  return out;
}

describe('region noise aggregation (corrected Eq. 5)', () => {
  it('outside every mask E* = E exactly', () => {
    const m = mask((p) => (p < 6 ? 1 : 0));
    const out = aggregateRegionNoise(E, [E1], [m], 0.1);
    for (let i = 0; i < E.length; i++) if (i % HW >= 6) expect(out[i]).toBe(E[i]);
    expect(Array.from(aggregateRegionNoise(E, [E1], [new Float32Array(HW)], 0.1))).toEqual(Array.from(E));
    expect(Array.from(aggregateRegionNoise(E, [], [], 0.1))).toEqual(Array.from(E));
  });

  it('with α = 1, or where every E_u = E, E* = E exactly', () => {
    const m = mask((p) => p / HW);
    expect(Array.from(aggregateRegionNoise(E, [E1, E2], [m, mask(() => 1)], 1))).toEqual(Array.from(E));
    expect(Array.from(aggregateRegionNoise(E, [E, E], [m, mask(() => 1)], 0.1))).toEqual(Array.from(E));
  });

  it('inside one binary region E* = α·E + (1 − α)·E_u; overlaps are averaged (the spec formula)', () => {
    const m1 = mask((p) => (p < 8 ? 1 : 0));
    const m2 = mask((p) => (p >= 4 ? 1 : 0));
    const out = aggregateRegionNoise(E, [E1, E2], [m1, m2], 0.1);
    const want = specBinary(E, [E1, E2], [m1, m2], 0.1);
    for (let i = 0; i < E.length; i++) expect(out[i]).toBeCloseTo(want[i]!, 6);
    expect(out[0]).toBeCloseTo(0.1 * E[0]! + 0.9 * E1[0]!, 6);
    expect(out[5]).toBeCloseTo(0.1 * E[5]! + 0.45 * (E1[5]! + E2[5]!), 6);
  });

  it('blends soft masks: a half mask moves E halfway to the binary result; total > 1 is normalised', () => {
    const out = aggregateRegionNoise(E, [E1], [mask(() => 0.5)], 0.1);
    for (let i = 0; i < E.length; i++) expect(out[i]).toBeCloseTo(E[i]! + 0.9 * 0.5 * (E1[i]! - E[i]!), 6);
    const over = aggregateRegionNoise(E, [E1, E2], [mask(() => 0.8), mask(() => 0.8)], 0.1);
    for (let i = 0; i < E.length; i++) expect(over[i]).toBeCloseTo(0.1 * E[i]! + 0.45 * (E1[i]! + E2[i]!), 6);
  });

  it('checks sizes and α', () => {
    expect(() => aggregateRegionNoise(E, [E1], [new Float32Array(5)], 0.1)).toThrow(RangeError);
    expect(() => aggregateRegionNoise(E, [E1], [mask(() => 1)], 1.5)).toThrow(RangeError);
    expect(() => aggregateRegionNoise(E, [E1, E2], [mask(() => 1)], 0.1)).toThrow(RangeError);
  });

  it('guides: uncond + s·(cond − uncond)', () => {
    const g = guide(Float32Array.from([1, 2]), Float32Array.from([3, 1]), 7.5);
    expect(Array.from(g)).toEqual([16, -5.5]);
  });
});
