import { describe, expect, it } from 'vitest';
import { beginStroke, dabCoverage, endStroke, extendStroke, rasterizeStroke, walkDabs } from './brush';
import type { Point } from './raster';

const rows = (m: Uint8Array, w: number) => Array.from({ length: m.length / w }, (_, y) => Array.from(m.subarray(y * w, (y + 1) * w), (v) => (v === 255 ? '#' : v === 0 ? '.' : '+')).join(''));

describe('brush geometry', () => {
  it('places dabs every `spacing` along the path, carrying the remainder across samples', () => {
    const a = walkDabs({ last: null, carry: 0 }, { x: 0, y: 0 }, 0.5);
    expect(a.dabs).toEqual([{ x: 0, y: 0 }]);
    const b = walkDabs(a.walk, { x: 0.3, y: 0 }, 0.5);
    expect(b.dabs).toEqual([]);
    const c = walkDabs(b.walk, { x: 1.0, y: 0 }, 0.5);
    expect(c.dabs.map((p) => p.x)).toEqual([0.5, 1.0]);
    expect(c.walk.carry).toBeCloseTo(0, 12);
    // A repeated sample adds nothing.
    expect(walkDabs(c.walk, { x: 1.0, y: 0 }, 0.5).dabs).toEqual([]);
  });
  it('has a hardness profile: full inside r·hardness, smooth to zero at r', () => {
    expect(dabCoverage(0, 4, 0)).toBe(1);
    expect(dabCoverage(4, 4, 0)).toBe(0);
    expect(dabCoverage(4.01, 4, 1)).toBe(0);
    expect(dabCoverage(3.99, 4, 1)).toBe(1);
    expect(dabCoverage(2, 4, 0.5)).toBe(1);
    expect(dabCoverage(3, 4, 0.5)).toBeCloseTo(0.5, 12);
    expect(dabCoverage(1, 4, 0)).toBeGreaterThan(dabCoverage(2, 4, 0));
  });
});

describe('brush strokes', () => {
  it('a 1-px hard brush draws exactly the pixels on a horizontal or vertical line', () => {
    const h = rasterizeStroke(new Uint8Array(8 * 5), 8, 5, { size: 1, hardness: 1, mode: 'paint' }, [{ x: 1.5, y: 2.5 }, { x: 6.5, y: 2.5 }]);
    expect(rows(h, 8)).toEqual(['........', '........', '.######.', '........', '........']);
    const v = rasterizeStroke(new Uint8Array(5 * 6), 5, 6, { size: 1, hardness: 1, mode: 'paint' }, [{ x: 3.5, y: 0.5 }, { x: 3.5, y: 3.2 }, { x: 3.5, y: 4.5 }]);
    expect(rows(v, 5)).toEqual(['...#.', '...#.', '...#.', '...#.', '...#.', '.....']);
  });
  it('a hard 2-px dab is a plus, a 3-px one a square; a soft dab falls off symmetrically from 255 at its centre', () => {
    const d = rasterizeStroke(new Uint8Array(25), 5, 5, { size: 2, hardness: 1, mode: 'paint' }, [{ x: 2.5, y: 2.5 }]);
    const q = rasterizeStroke(new Uint8Array(25), 5, 5, { size: 3, hardness: 1, mode: 'paint' }, [{ x: 2.5, y: 2.5 }]);
    expect(rows(q, 5)).toEqual(['.....', '.###.', '.###.', '.###.', '.....']);
    expect(rows(d, 5)).toEqual(['.....', '..#..', '.###.', '..#..', '.....']);
    const s = rasterizeStroke(new Uint8Array(121), 11, 11, { size: 9, hardness: 0, mode: 'paint' }, [{ x: 5.5, y: 5.5 }]);
    expect(s[5 * 11 + 5]).toBe(255);
    for (let y = 0; y < 11; y++)
      for (let x = 0; x < 11; x++) {
        expect(s[y * 11 + x]).toBe(s[x * 11 + y]);
        expect(s[y * 11 + x]).toBe(s[y * 11 + (10 - x)]);
      }
    for (let x = 6; x < 11; x++) expect(s[5 * 11 + x]).toBeLessThan(s[5 * 11 + x - 1]!);
    expect(s[5 * 11 + 10]).toBe(0);
  });
  it('composites onto what was there: paint a + c·(255 − a), and overlapping dabs do not build up', () => {
    const base = new Uint8Array(11 * 11).fill(100);
    const one = rasterizeStroke(base, 11, 11, { size: 9, hardness: 0, mode: 'paint' }, [{ x: 5.5, y: 5.5 }]);
    const many = rasterizeStroke(base, 11, 11, { size: 9, hardness: 0, mode: 'paint' }, [{ x: 5.5, y: 5.5 }, { x: 5.5, y: 5.5 }, { x: 5.6, y: 5.5 }, { x: 5.5, y: 5.5 }]);
    const c = dabCoverage(Math.hypot(2, 0), 4.5, 0);
    expect(one[5 * 11 + 7]).toBe(Math.round(100 + c * 155));
    expect(one[0]).toBe(100);
    expect(many[5 * 11 + 5]).toBe(255);
    expect(many[5 * 11 + 2]).toBeGreaterThanOrEqual(one[5 * 11 + 2]!);
  });
  it('the eraser subtracts, and a hard eraser over the same path restores zero', () => {
    const path: Point[] = [{ x: 2, y: 3 }, { x: 9, y: 7 }, { x: 14, y: 2 }];
    const painted = rasterizeStroke(new Uint8Array(16 * 10), 16, 10, { size: 4, hardness: 0.3, mode: 'paint' }, path);
    expect(painted.some((v) => v > 0 && v < 255)).toBe(true);
    const erased = rasterizeStroke(painted, 16, 10, { size: 7, hardness: 1, mode: 'erase' }, path);
    expect(erased.every((v) => v === 0)).toBe(true);
    const half = rasterizeStroke(new Uint8Array(9).fill(200), 3, 3, { size: 3, hardness: 0, mode: 'erase' }, [{ x: 1.5, y: 1.5 }]);
    expect(half[4]).toBe(0);
    expect(half[1]).toBe(Math.round(200 * (1 - dabCoverage(1, 1.5, 0))));
  });
  it('is deterministic: the same samples give the same bytes however they are batched', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pts: Point[] = Array.from({ length: 40 }, () => ({ x: rnd() * 60, y: rnd() * 40 }));
    const params = { size: 6.5, hardness: 0.4, mode: 'paint' as const };
    const whole = rasterizeStroke(new Uint8Array(60 * 40), 60, 40, params, pts);
    expect(rasterizeStroke(new Uint8Array(60 * 40), 60, 40, params, pts)).toEqual(whole);
    const s = beginStroke(new Uint8Array(60 * 40), 60, 40, params);
    for (let i = 0; i < pts.length; i += 3) extendStroke(s, pts.slice(i, i + 3));
    expect(endStroke(s)).toEqual(whole);
    expect(s.dirty).not.toBeNull();
  });
});
