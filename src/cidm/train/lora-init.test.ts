import { describe, expect, it } from 'vitest';
import { NoiseStream } from '../../diffusion/rng';
import { cidmTokenSigma, initConceptTokens, initLoraDown, initLoraUp, kaimingUniformBound } from './lora-init';

describe('CIDM initial values (spec §1.3, §1.4)', () => {
  it('draws LoRA downs from U(−1/√in, 1/√in) (kaiming_uniform a=√5) and zero ups', () => {
    expect(kaimingUniformBound(640)).toBeCloseTo(Math.sqrt(1 / 3) * Math.sqrt(3 / 640), 15);
    const d = initLoraDown(new NoiseStream(7, 0), 4, 37);
    const b = 1 / Math.sqrt(37);
    expect(d.length).toBe(4 * 37);
    expect(Math.max(...d)).toBeLessThanOrEqual(b);
    expect(Math.min(...d)).toBeGreaterThanOrEqual(-b);
    // uniform on (−b, b): mean ≈ 0, variance ≈ b²/3
    const big = initLoraDown(new NoiseStream(8, 0), 4, 10000);
    const mean = big.reduce((a, v) => a + v, 0) / big.length;
    const vr = big.reduce((a, v) => a + (v - mean) ** 2, 0) / big.length;
    expect(Math.abs(mean)).toBeLessThan(0.01 * 0.01 * 3);
    expect(vr / (0.01 ** 2 / 3)).toBeCloseTo(1, 1);
    expect(initLoraUp(5, 3)).toEqual(new Float32Array(15));
  });

  it('is reproducible from the seed', () => {
    expect(initLoraDown(new NoiseStream(3, 1), 4, 21)).toEqual(initLoraDown(new NoiseStream(3, 1), 4, 21));
    expect(initLoraDown(new NoiseStream(3, 1), 4, 21)).not.toEqual(initLoraDown(new NoiseStream(4, 1), 4, 21));
  });

  it('gives σ by task from CIDM\'s YAMLs', () => {
    expect([1, 2, 3, 4, 10].map(cidmTokenSigma)).toEqual([0.013, 0.012, 0.011, 0.014, 0.02]);
    expect(cidmTokenSigma(14)).toBe(0.02);
    expect(() => cidmTokenSigma(0)).toThrow(RangeError);
  });

  it('starts the first word at N(0, σ²), copies class rows for the others, the same in every layer', () => {
    const dim = 9;
    const classRow = Float32Array.from({ length: dim }, (_, k) => k / 10);
    const t = initConceptTokens(new NoiseStream(11, 0), { layers: 5, dim, sigma: 0.013, words: [null, classRow, classRow.map((v) => -v)] });
    expect(t.length).toBe(5 * 3 * dim);
    for (let l = 0; l < 5; l++) {
      expect(t.subarray((l * 3) * dim, (l * 3 + 1) * dim)).toEqual(t.subarray(0, dim));
      expect(t.subarray((l * 3 + 1) * dim, (l * 3 + 2) * dim)).toEqual(classRow);
      expect(t.subarray((l * 3 + 2) * dim, (l * 3 + 3) * dim)).toEqual(classRow.map((v) => -v));
    }
    const wide = initConceptTokens(new NoiseStream(12, 0), { layers: 1, dim: 20000, sigma: 0.013, words: [null] });
    const sd = Math.sqrt(wide.reduce((a, v) => a + v * v, 0) / wide.length);
    expect(sd / 0.013).toBeCloseTo(1, 1);
    expect(() => initConceptTokens(new NoiseStream(1, 0), { layers: 1, dim: 3, sigma: 1, words: [null, [1, 2]] })).toThrow(RangeError);
  });
});
