import { describe, expect, it } from 'vitest';
import { SDXL_VAE_CONFIG } from '../config';
import { bandsOver, rowBytes, splitRows } from './bands';

const MiB = 2 ** 20;

function heights(b: { start: number; end: number }[]): number[] {
  return b.map((r) => r.end - r.start);
}

describe('VAE band planning', () => {
  it('keeps a tensor that fits whole as one band, with no halo', () => {
    expect(splitRows(64, 1000, 64_000, { halo: 2 })).toEqual([{ start: 0, end: 64 }]);
  });

  it('splits into the fewest near-equal bands whose rows and halo fit, covering every row once', () => {
    // 100 rows of 1000 B, limit 23 000 B: 21 rows + 2 halo rows fit, so ⌈100/21⌉ = 5 bands of 20
    const b = splitRows(100, 1000, 23_000, { halo: 2 });
    expect(heights(b)).toEqual([20, 20, 20, 20, 20]);
    // 37 rows (a prime): 3 bands of 13/12/12, the first ones take the remainder
    const odd = splitRows(37, 1000, 15_000, { halo: 2 });
    expect(heights(odd)).toEqual([13, 12, 12]);
    for (const s of [b, odd]) {
      expect(s[0]!.start).toBe(0);
      for (let i = 1; i < s.length; i++) expect(s[i]!.start).toBe(s[i - 1]!.end);
      for (const r of s) expect((r.end - r.start + 2) * 1000).toBeLessThanOrEqual(s === b ? 23_000 : 15_000);
    }
    expect(odd[odd.length - 1]!.end).toBe(37);
  });

  it('puts an upsample output\'s boundaries on even rows (unit 2)', () => {
    const b = splitRows(26, 1000, 8_000, { unit: 2 });
    expect(heights(b)).toEqual([8, 6, 6, 6]);
    for (const r of b) expect(r.start % 2).toBe(0);
    expect(() => splitRows(25, 1000, 8_000, { unit: 2 })).toThrow(/not a multiple of the band unit 2/);
  });

  it('names the sizes when one row with its halo exceeds the limit', () => {
    expect(() => splitRows(10, 5000, 12_000, { halo: 2 })).toThrow(/3 rows of 5000 bytes .* exceed the 12000-byte binding limit/);
  });

  it('rounds f16 rows to whole 4-byte words', () => {
    // 3 rows of 6 B = 18 B need a 20-byte buffer: over a 19-byte limit, so bands of 2 rows
    expect(heights(splitRows(6, 6, 19))).toEqual([2, 2, 2]);
    expect(heights(splitRows(6, 6, 20))).toEqual([3, 3]);
  });

  it('finds the bands a row range overlaps', () => {
    const b = [{ start: 0, end: 5 }, { start: 5, end: 9 }, { start: 9, end: 12 }];
    expect(bandsOver(b, 4, 10)).toEqual([{ index: 0, start: 4, end: 5 }, { index: 1, start: 5, end: 9 }, { index: 2, start: 9, end: 10 }]);
    expect(bandsOver(b, 5, 9)).toEqual([{ index: 1, start: 5, end: 9 }]);
  });

  it('bands the SDXL 1024² decode\'s largest activation (256 ch at 1024², f16) under 128 MiB', () => {
    // the up_blocks.2 upsample conv: 256 ch in and out at 1024 × 1024; a row is 512 KiB in f16
    const ch = SDXL_VAE_CONFIG.blockOutChannels[1]!;
    const per = rowBytes([1, ch, 1024, 1024], 'f16');
    expect(per).toBe(512 * 1024);
    const b = splitRows(1024, per, 128 * MiB, { halo: 2 });
    expect(b.length).toBe(5); // 254 rows + 2 halo = 128 MiB: ⌈1024 / 254⌉ = 5 bands of ~205 rows
    expect(Math.max(...heights(b))).toBeLessThanOrEqual(254);
    expect(heights(b).reduce((s, v) => s + v, 0)).toBe(1024);
  });
});
