import { describe, expect, it } from 'vitest';
import { presetOf, SDXL_BUCKETS, snapSide } from './sizes';

describe('image sizes', () => {
  it('buckets are multiples of 64 near one megapixel', () => {
    for (const b of SDXL_BUCKETS) {
      expect(b.width % 64).toBe(0);
      expect(b.height % 64).toBe(0);
      expect(Math.abs((b.width * b.height) / (1024 * 1024) - 1)).toBeLessThan(0.07);
    }
  });
  it('snaps custom sides to multiples of 8 within bounds', () => {
    expect(snapSide(130)).toBe(128);
    expect(snapSide(133)).toBe(136);
    expect(snapSide(1)).toBe(16);
    expect(snapSide(99999)).toBe(2048);
    expect(snapSide(Number.NaN)).toBe(1024);
  });
  it('finds the preset of a size', () => {
    expect(presetOf(1216, 832)?.label).toBe('3:2');
    expect(presetOf(128, 192)).toBeUndefined();
  });
});
