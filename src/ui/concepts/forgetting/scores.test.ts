import { describe, expect, it } from 'vitest';
import { averageForgetting, chartRange, conceptSeries, forgettingPerConcept, formatRelative, heatColor, heatPosition, relativeMatrix, scoredColumns } from './scores';

// 3 tasks; concept 1 (middle) has no photos
const matrix = [
  [0.2, null, null],
  [0.22, null, null],
  [0.25, null, 0.4],
];

describe('relative scores', () => {
  it('divides each column by its diagonal; missing stays null', () => {
    const rel = relativeMatrix(matrix);
    expect(rel[0]).toEqual([1, null, null]);
    expect(rel[1]![0]).toBeCloseTo(1.1, 12);
    expect(rel[2]![0]).toBeCloseTo(1.25, 12);
    expect(rel[2]![2]).toBe(1);
    expect(rel[2]![1]).toBeNull();
  });
  it('a zero or missing diagonal gives no ratio rather than Infinity', () => {
    expect(relativeMatrix([[0, null], [0.1, 0.3]])).toEqual([[null, null], [null, 1]]);
  });
  it('tells scored from unscored concepts', () => {
    expect(scoredColumns({ conceptIds: ['a', 'b', 'c'], matrix })).toEqual([true, false, true]);
  });
  it('forgetting is the last relative loss minus 1, for every concept but the newest', () => {
    const f = forgettingPerConcept(relativeMatrix(matrix));
    expect(f[0]).toBeCloseTo(0.25, 12);
    expect(f.slice(1)).toEqual([null, null]);
    expect(averageForgetting(f)).toBeCloseTo(0.25, 12);
    expect(averageForgetting([null])).toBeNull();
  });
  it('the series of a concept starts at its own task', () => {
    const rel = relativeMatrix(matrix);
    expect(conceptSeries(rel, 0).map((p) => p.j)).toEqual([0, 1, 2]);
    expect(conceptSeries(rel, 2)).toEqual([{ j: 2, v: 1 }]);
    expect(conceptSeries(rel, 1)).toEqual([]);
  });
});

describe('colour scale', () => {
  it('is symmetric in log ratio and saturates at ±span octaves', () => {
    expect(heatPosition(1)).toBe(0);
    expect(heatPosition(Math.SQRT2)).toBeCloseTo(1, 12);
    expect(heatPosition(Math.SQRT1_2)).toBeCloseTo(-1, 12);
    expect(heatPosition(1.1)).toBeCloseTo(-heatPosition(1 / 1.1), 12);
    expect(heatPosition(8)).toBe(1);
    expect(heatPosition(0)).toBe(0);
  });
  it('red for worse, green for better, more opaque the further from 1', () => {
    expect(heatColor(null)).toBe('transparent');
    expect(heatColor(1.2)).toMatch(/^rgba\(255, 107, 107/);
    expect(heatColor(0.8)).toMatch(/^rgba\(62, 207, 142/);
    const alpha = (c: string) => Number(/([\d.]+)\)$/.exec(c)![1]);
    expect(alpha(heatColor(1.3))).toBeGreaterThan(alpha(heatColor(1.05)));
    expect(alpha(heatColor(1))).toBeCloseTo(0.12, 3);
  });
  it('labels and the chart range cover 1 and every value', () => {
    expect(formatRelative(1.234)).toBe('1.23×');
    expect(formatRelative(null)).toBe('—');
    const [lo, hi] = chartRange(relativeMatrix(matrix));
    expect(lo).toBeLessThan(1);
    expect(hi).toBeGreaterThan(1.25);
  });
});
