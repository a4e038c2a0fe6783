import { describe, expect, it } from 'vitest';
import { sizeClass } from './buffer-pool';

describe('buffer size classes', () => {
  it('rounds up to powers of two below 1 MiB and to 1/8 steps above', () => {
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(257)).toBe(512);
    expect(sizeClass(1 << 20)).toBe(1 << 20);
    expect(sizeClass((1 << 20) + 1)).toBe((1 << 20) + (1 << 17));
    for (const n of [3e6, 7.7e7, 1.2e8]) {
      const c = sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c / n).toBeLessThanOrEqual(1.125);
    }
  });
});
