import { describe, expect, it } from 'vitest';
import { formatDuration } from './format';

describe('formatDuration (minutes and seconds)', () => {
  it('writes seconds below a minute, rounded up', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(59.4)).toBe('1 min');
  });
  it('writes minutes and seconds, and hours with minutes', () => {
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(180)).toBe('3 min');
    expect(formatDuration(3000)).toBe('50 min');
    expect(formatDuration(3725)).toBe('1 h 2 min');
    expect(formatDuration(7200)).toBe('2 h');
  });
  it('says nothing numeric for a value that is not a duration', () => {
    expect(formatDuration(Number.NaN)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
  });
});
