import { describe, expect, it } from 'vitest';
import { linearDecayLr } from './lr-schedule';

describe('linearDecayLr (transformers get_linear_schedule_with_warmup, no warmup)', () => {
  it('starts at the base rate, loses base/total per step and ends at base/total on the last step', () => {
    expect(linearDecayLr(1e-4, 0, 800)).toBe(1e-4);
    expect(linearDecayLr(1e-4, 1, 800)).toBe(1e-4 * (799 / 800));
    expect(linearDecayLr(1e-3, 400, 800)).toBe(1e-3 * 0.5);
    expect(linearDecayLr(1e-4, 799, 800)).toBe(1e-4 * (1 / 800));
    expect(linearDecayLr(1e-4, 800, 800)).toBe(0);
    expect(linearDecayLr(1e-4, 900, 800)).toBe(0);
  });

  it('ramps up linearly during a warmup, then decays to 0 over the rest', () => {
    expect(linearDecayLr(1, 0, 100, 10)).toBe(0);
    expect(linearDecayLr(1, 5, 100, 10)).toBe(0.5);
    expect(linearDecayLr(1, 10, 100, 10)).toBe(1);
    expect(linearDecayLr(1, 55, 100, 10)).toBe(0.5);
  });

  it('rejects steps that are not counts', () => {
    expect(() => linearDecayLr(1, -1, 10)).toThrow(RangeError);
    expect(() => linearDecayLr(1, 1.5, 10)).toThrow(RangeError);
    expect(() => linearDecayLr(1, 0, 0)).toThrow(RangeError);
  });
});
