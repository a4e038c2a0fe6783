import { describe, expect, it } from 'vitest';
import { EMB_NORM_THRESHOLD, meanRowNorm, TokenNormStop } from './token-norm';

describe('concept-token early stop (spec §1.4)', () => {
  it('averages the L2 norms of all rows of all tables, each in its own width', () => {
    const a = { data: [3, 4, 0, 0], dim: 2 }; // norms 5, 0
    const b = { data: [1, 2, 2], dim: 3 }; // norm 3
    expect(meanRowNorm([a])).toBe(2.5);
    expect(meanRowNorm([a, b])).toBeCloseTo(8 / 3, 15);
    expect(() => meanRowNorm([{ data: [1, 2, 3], dim: 2 }])).toThrow(RangeError);
    expect(() => meanRowNorm([])).toThrow(RangeError);
  });

  it('freezes for good once the mean norm reaches 0.55, and remembers the step', () => {
    expect(EMB_NORM_THRESHOLD).toBe(0.55);
    const stop = new TokenNormStop();
    const rows = (norm: number) => [{ data: [norm, 0, 0, norm], dim: 2 }];
    expect(stop.observe(1, rows(0.3))).toBe(false);
    expect(stop.lastNorm).toBeCloseTo(0.3, 15);
    expect(stop.observe(2, rows(0.5499))).toBe(false);
    expect(stop.observe(3, rows(0.55))).toBe(true);
    expect(stop.frozenAtStep).toBe(3);
    // a later smaller norm does not unfreeze it
    expect(stop.observe(4, rows(0.1))).toBe(true);
    expect(stop.frozenAtStep).toBe(3);
  });

  it('resumes frozen from a checkpointed state', () => {
    const stop = new TokenNormStop(0.55, true, 17);
    expect(stop.observe(18, [{ data: [0], dim: 1 }])).toBe(true);
  });
});
