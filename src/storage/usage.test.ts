import { describe, expect, it } from 'vitest';
import { approxBytes, usageSegments, usedFraction } from './usage';

describe('approxBytes', () => {
  it('counts binary data by its byte length and strings by their length', () => {
    expect(approxBytes(new Uint8Array(1000))).toBe(1000);
    expect(approxBytes(new ArrayBuffer(64))).toBe(64);
    expect(approxBytes(new Blob([new Uint8Array(300)]))).toBe(300);
    expect(approxBytes('hello')).toBe(5);
    expect(approxBytes(null)).toBe(0);
    expect(approxBytes(undefined)).toBe(0);
  });

  it('sums a scene-like record: keys, scalars and the masks of every layer', () => {
    const record = { v: 2, name: 'ab', layers: [{ mask: new Uint8Array(10) }, { mask: new Uint8Array(7) }] };
    // keys: v(1) name(4) layers(6) mask(4) mask(4) = 19; v 8; 'ab' 2; masks 17 (array indices add nothing)
    expect(approxBytes(record)).toBe(19 + 8 + 2 + 17);
  });

  it('counts a buffer shared by two fields once and survives cycles', () => {
    const mask = new Uint8Array(50);
    const o: Record<string, unknown> = { a: mask, b: mask };
    o.self = o;
    expect(approxBytes(o)).toBe(1 + 1 + 4 + 50);
  });

  it('reads Maps, Sets and Dates', () => {
    expect(approxBytes(new Map([['k', new Uint8Array(4)]]))).toBe(5);
    expect(approxBytes(new Set(['abc', 'de']))).toBe(5);
    expect(approxBytes(new Date(0))).toBe(8);
  });
});

describe('usageSegments', () => {
  it('splits the estimate into the three concerns and the rest', () => {
    const segs = usageSegments(1000, 10_000, { models: 600, gallery: 200, scenes: 50 });
    expect(segs.map((s) => [s.key, s.bytes])).toEqual([
      ['models', 600],
      ['gallery', 200],
      ['scenes', 50],
      ['other', 150],
    ]);
    expect(segs.map((s) => s.fraction)).toEqual([0.06, 0.02, 0.005, 0.015]);
  });

  it('never shows a negative "other" nor more than the whole bar when the parts exceed the estimate', () => {
    // The estimate lags behind writes (and measures differently), so the parts can add up to more.
    const segs = usageSegments(100, 1000, { models: 900, gallery: 300, scenes: 0 });
    expect(segs.find((s) => s.key === 'other')!.bytes).toBe(0);
    const sum = segs.reduce((a, s) => a + s.fraction, 0);
    expect(sum).toBeCloseTo(1, 12);
    expect(segs[0]!.fraction).toBeCloseTo(0.75, 12);
  });

  it('gives zero fractions when the quota is unknown', () => {
    const segs = usageSegments(500, 0, { models: 100, gallery: 0, scenes: 0 });
    expect(segs.every((s) => s.fraction === 0)).toBe(true);
    expect(segs.find((s) => s.key === 'other')!.bytes).toBe(400);
  });
});

describe('usedFraction', () => {
  it('is the used share of the quota, clamped to 0..1', () => {
    expect(usedFraction(250, 1000)).toBe(0.25);
    expect(usedFraction(2000, 1000)).toBe(1);
    expect(usedFraction(5, 0)).toBe(0);
  });
});
