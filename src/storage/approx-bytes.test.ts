import { describe, expect, it } from 'vitest';
import { approxBytes } from './approx-bytes';

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
