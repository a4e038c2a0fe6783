import { describe, expect, it } from 'vitest';
import { coverageCount, diffRect, extractRect, fillEllipseMask, fillRectMask, invertMask, rectFromDrag, resampleAlpha, resampleToFloat, withRect } from './raster';

/** The mask as rows of '#' (255), '.' (0) and '+' (anything between). */
function picture(m: Uint8Array, w: number): string[] {
  const rows: string[] = [];
  for (let y = 0; y < m.length / w; y++) rows.push(Array.from(m.subarray(y * w, (y + 1) * w), (v) => (v === 255 ? '#' : v === 0 ? '.' : '+')).join(''));
  return rows;
}

describe('raster: rectangles', () => {
  it('fill x0..x1−1 and y0..y1−1 (inclusive start, exclusive end)', () => {
    const m = fillRectMask(new Uint8Array(6 * 4), 6, 4, { x0: 1, y0: 1, x1: 4, y1: 3 }, 'paint');
    expect(picture(m, 6)).toEqual(['......', '.###..', '.###..', '......']);
    expect(coverageCount(m)).toBe(6);
    const e = fillRectMask(m, 6, 4, { x0: 2, y0: 0, x1: 3, y1: 4 }, 'erase');
    expect(picture(e, 6)).toEqual(['......', '.#.#..', '.#.#..', '......']);
    // The input buffer is never written.
    expect(coverageCount(m)).toBe(6);
  });
  it('snap a drag to the nearest grid lines, in either direction, clipped to the mask', () => {
    expect(rectFromDrag({ x: 1.2, y: 0.9 }, { x: 3.6, y: 2.7 }, 6, 4)).toEqual({ x0: 1, y0: 1, x1: 4, y1: 3 });
    expect(rectFromDrag({ x: 3.6, y: 2.7 }, { x: 1.2, y: 0.9 }, 6, 4)).toEqual({ x0: 1, y0: 1, x1: 4, y1: 3 });
    expect(rectFromDrag({ x: -5, y: -1 }, { x: 40, y: 2.2 }, 6, 4)).toEqual({ x0: 0, y0: 0, x1: 6, y1: 2 });
    const flat = fillRectMask(new Uint8Array(24), 6, 4, rectFromDrag({ x: 2, y: 2 }, { x: 2.3, y: 3 }, 6, 4), 'paint');
    expect(coverageCount(flat)).toBe(0);
  });
});

describe('raster: ellipses', () => {
  it('fill the pixels whose centres are inside the inscribed ellipse', () => {
    const m = fillEllipseMask(new Uint8Array(16), 4, 4, { x0: 0, y0: 0, x1: 4, y1: 4 }, 'paint');
    expect(picture(m, 4)).toEqual(['.##.', '####', '####', '.##.']);
  });
  it('are exactly symmetric about both axes, for odd and even boxes', () => {
    for (const [w, h] of [[11, 7], [12, 9], [5, 16]] as const) {
      const m = fillEllipseMask(new Uint8Array(w * h), w, h, { x0: 0, y0: 0, x1: w, y1: h }, 'paint');
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          expect(m[y * w + x]).toBe(m[y * w + (w - 1 - x)]);
          expect(m[y * w + x]).toBe(m[(h - 1 - y) * w + x]);
        }
      // The centre row spans the full width; the corners are outside.
      expect(m[Math.floor(h / 2) * w]).toBe(255);
      expect(m[0]).toBe(0);
    }
  });
  it('are cut, not squashed, past the edge', () => {
    const m = fillEllipseMask(new Uint8Array(16), 4, 4, { x0: 2, y0: 0, x1: 6, y1: 4 }, 'paint');
    expect(picture(m, 4)).toEqual(['...#', '..##', '..##', '...#']);
  });
});

describe('raster: whole-mask operations', () => {
  it('invert twice is the identity', () => {
    const m = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    const inv = invertMask(m);
    expect(inv[1]).toBe(255 - 37);
    expect(invertMask(inv)).toEqual(m);
    expect(coverageCount(invertMask(new Uint8Array(9)))).toBe(9);
  });
  it('diffRect bounds exactly the changed pixels', () => {
    const a = new Uint8Array(7 * 5);
    const b = a.slice();
    expect(diffRect(a, b, 7, 5)).toBeNull();
    b[1 * 7 + 5] = 3;
    b[3 * 7 + 2] = 9;
    expect(diffRect(a, b, 7, 5)).toEqual({ x0: 2, y0: 1, x1: 6, y1: 4 });
  });
  it('extractRect / withRect round-trip a patch', () => {
    const m = Uint8Array.from({ length: 30 }, (_, i) => i);
    const r = { x0: 1, y0: 2, x1: 4, y1: 5 };
    const patch = extractRect(m, 6, r);
    expect(Array.from(patch)).toEqual([13, 14, 15, 19, 20, 21, 25, 26, 27]);
    const z = withRect(new Uint8Array(30), 6, r, patch);
    expect(extractRect(z, 6, r)).toEqual(patch);
    expect(coverageCount(z)).toBe(9);
  });
});

describe('raster: resampling', () => {
  it('is exact at the same size and aligns pixel centres when upsampling', () => {
    const src = Uint8Array.from([0, 255, 0, 255]);
    expect(resampleAlpha(src, 2, 2, 2, 2)).toEqual(src);
    expect(Array.from(resampleToFloat(src, 2, 2, 2, 2))).toEqual([0, 1, 0, 1]);
    expect(Array.from(resampleToFloat(src, 2, 2, 4, 1))).toEqual([0, 0.25, 0.75, 1].map(Math.fround));
    const full = resampleToFloat(new Uint8Array(12).fill(255), 4, 3, 8, 6);
    expect(full.every((v) => v === 1)).toBe(true);
    expect(resampleAlpha(new Uint8Array(64).fill(255), 8, 8, 3, 5).every((v) => v === 255)).toBe(true);
  });
});
