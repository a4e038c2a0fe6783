import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits, roundToF16 } from './f16';

describe('f16 conversion', () => {
  it('converts exact values, extremes and specials', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [Infinity, 0x7c00], [-Infinity, 0xfc00], [1e6, 0x7c00],
    ];
    for (const [x, bits] of cases) {
      expect(f32ToF16Bits(x)).toBe(bits);
      expect(f16BitsToF32(bits)).toBe(x === 1e6 ? Infinity : x);
    }
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  });

  it('rounds to nearest even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(f16BitsToF32(f32ToF16Bits(1 + 2 ** -11))).toBe(1);
    expect(f16BitsToF32(f32ToF16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    // relative rounding error stays within 2^-11 over a range of magnitudes
    for (const x of [0.1, 3.14159, -123.456, 1e-3, 6e4]) {
      expect(Math.abs(roundToF16([x])[0]! - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -11);
    }
  });
});
