import { describe, expect, it } from 'vitest';
import { sparklinePoints } from './Sparkline';

describe('sparklinePoints', () => {
  it('spans the box: the first point at the left, the highest loss at the top, the lowest at the bottom', () => {
    const pts = sparklinePoints([2, 1, 0], 104, 24, 2).split(' ').map((p) => p.split(',').map(Number));
    expect(pts).toEqual([[2, 2], [52, 12], [102, 22]]);
  });
  it('skips non-finite values and draws nothing for fewer than two', () => {
    expect(sparklinePoints([1], 100, 20)).toBe('');
    expect(sparklinePoints([1, Number.NaN, 3], 100, 20, 0).split(' ')).toHaveLength(2);
  });
  it('a flat curve stays inside the box', () => {
    const ys = sparklinePoints([0.5, 0.5, 0.5], 100, 20, 2).split(' ').map((p) => Number(p.split(',')[1]));
    expect(ys.every((y) => y >= 2 && y <= 18)).toBe(true);
  });
});
