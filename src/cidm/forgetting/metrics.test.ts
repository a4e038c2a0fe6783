import { describe, expect, it } from 'vitest';
import { summarizeForgetting } from './metrics';
import { probeDraw } from './ewa-loss';

describe('forgetting metrics', () => {
  it('forgetting = loss after the last task − loss after its own; the average leaves the last concept out', () => {
    const s = summarizeForgetting([
      [1.0, 1.5, 2.0],
      [null, 0.5, 0.25],
      [null, null, 3.0],
    ]);
    expect(s.forgetting).toEqual([1.0, -0.25]);
    expect(s.averageForgetting).toBeCloseTo(0.375, 12);
    expect(s.finalMeanLoss).toBeCloseTo((2 + 0.25 + 3) / 3, 12);
  });

  it('refuses a matrix with a missing cell, by concept and task', () => {
    expect(() => summarizeForgetting([[1, null], [null, 2]])).toThrow(/concept 1 after task 2/);
  });
});

describe('probe draws', () => {
  it('depend on (seed, photo, draw) only, with timesteps in 0..T−1', () => {
    const a = probeDraw(3, 1, 2, 16, 1000);
    expect(probeDraw(3, 1, 2, 16, 1000)).toEqual(a);
    expect(probeDraw(3, 1, 3, 16, 1000).noise).not.toEqual(a.noise);
    expect(probeDraw(3, 0, 2, 16, 1000).noise).not.toEqual(a.noise);
    for (let d = 0; d < 50; d++) {
      const t = probeDraw(9, 0, d, 1, 1000).timestep;
      expect(Number.isInteger(t) && t >= 0 && t < 1000).toBe(true);
    }
    expect(() => probeDraw(3, 0, 1000, 4, 1000)).toThrow(/0\.\.999/);
  });
});
