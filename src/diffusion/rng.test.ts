import { describe, expect, it } from 'vitest';
import { initialNoise, NoiseStream, stepNoise, MAX_SEED } from './rng';

describe('seeded noise', () => {
  it('is deterministic per seed and differs between seeds and streams', () => {
    const a = initialNoise(42, 1000);
    expect(initialNoise(42, 1000)).toEqual(a);
    expect(initialNoise(43, 1000)).not.toEqual(a);
    expect(stepNoise(42, 0, 1000)).not.toEqual(a);
    expect(stepNoise(42, 3, 1000)).toEqual(stepNoise(42, 3, 1000));
  });

  it('a prefix does not depend on how many values are drawn', () => {
    expect(initialNoise(7, 4096).subarray(0, 100)).toEqual(initialNoise(7, 100));
  });

  it('is standard normal: mean 0, variance 1, symmetric tails', () => {
    const n = 200_000;
    const x = initialNoise(123, n);
    let s = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
      if (Math.abs(v) > 2) beyond2++;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(0.01); // 4.5 standard errors (1/sqrt(n) = 0.0022)
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    expect(beyond2 / n).toBeCloseTo(0.0455, 2); // P(|z| > 2)
  });

  it('uniforms stay in (0, 1] and cover the range', () => {
    const r = new NoiseStream(0);
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = r.uniform();
      expect(u > 0 && u <= 1).toBe(true);
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    expect(lo).toBeLessThan(1e-3);
    expect(hi).toBeGreaterThan(1 - 1e-3);
  });

  it('refuses seeds outside 0..2^32-1', () => {
    expect(() => new NoiseStream(-1)).toThrow(RangeError);
    expect(() => new NoiseStream(MAX_SEED + 1)).toThrow(RangeError);
    expect(() => new NoiseStream(1.5)).toThrow(RangeError);
    expect(() => new NoiseStream(MAX_SEED)).not.toThrow();
  });
});
