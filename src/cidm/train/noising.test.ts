import { describe, expect, it } from 'vitest';
import { CIDM_NOISE_OFFSET, DdpmNoiser, drawTrainingNoise } from './noising';

const SD = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' as const };
const f = Math.fround;

describe('DDPM noising for training (spec §1.6)', () => {
  it('builds the scaled_linear ᾱ in float32 from the config', () => {
    const n = new DdpmNoiser(SD);
    expect(n.numTrainTimesteps).toBe(1000);
    const ac = n.alphasCumprod;
    expect(ac.length).toBe(1000);
    // β_0 = (sqrt(0.00085) in f32)² in f32
    expect(ac[0]).toBe(f(1 - f(f(Math.sqrt(0.00085)) ** 2)));
    for (let t = 1; t < 1000; t++) {
      expect(ac[t]).toBeLessThan(ac[t - 1]!);
      expect(ac[t]).toBe(f(ac[t]!));
    }
    expect(ac[999]).toBeCloseTo(0.00466, 4);
    const other = new DdpmNoiser({ ...SD, num_train_timesteps: 500 });
    expect(other.alphasCumprod.length).toBe(500);
  });

  it('adds noise with f32 coefficients per sample, rounding like torch', () => {
    const n = new DdpmNoiser(SD);
    const x0 = Float32Array.from({ length: 10 }, (_, i) => i / 7 - 0.5);
    const eps = Float32Array.from({ length: 10 }, (_, i) => Math.cos(i));
    const noisy = n.addNoise(x0, eps, 2, [0, 999]);
    for (let i = 0; i < 10; i++) {
      const t = i < 5 ? 0 : 999;
      const a = n.alphasCumprod[t]!;
      const sa = f(Math.sqrt(a));
      const sb = f(Math.sqrt(f(1 - a)));
      expect(noisy[i]).toBe(f(f(sa * x0[i]!) + f(sb * eps[i]!)));
    }
    expect(() => n.addNoise(x0, eps, 2, [0, 1000])).toThrow(RangeError);
    expect(() => n.addNoise(x0, eps, 3, [0, 1, 2])).toThrow(RangeError);
  });

  it('draws timesteps in 0..T−1 and noise with a per-(sample, channel) offset, reproducibly', () => {
    const shape = [3, 4, 5, 6];
    const a = drawTrainingNoise(42, 7, shape, 1000);
    const b = drawTrainingNoise(42, 7, shape, 1000);
    expect(a.noise).toEqual(b.noise);
    expect(a.timesteps).toEqual(b.timesteps);
    expect(drawTrainingNoise(42, 8, shape, 1000).noise).not.toEqual(a.noise);
    const plain = drawTrainingNoise(42, 7, shape, 1000, 0);
    // the offset is one value per (b, c), the same over H×W
    for (let bc = 0; bc < 12; bc++) {
      const d0 = a.noise[bc * 30]! - plain.noise[bc * 30]!;
      expect(Math.abs(d0)).toBeLessThan(CIDM_NOISE_OFFSET * 6);
      for (let i = 1; i < 30; i++) expect(a.noise[bc * 30 + i]! - plain.noise[bc * 30 + i]!).toBeCloseTo(d0, 6);
    }
    const ts = new Set<number>();
    for (let s = 0; s < 400; s++) for (const t of drawTrainingNoise(1, s, [5, 1, 1, 1], 10).timesteps) ts.add(t);
    expect([...ts].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
