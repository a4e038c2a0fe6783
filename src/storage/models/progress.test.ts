import { describe, expect, it } from 'vitest';
import { etaSeconds, formatDuration, percent, RateMeter, totals } from './progress';
import { backoffDelay, isRetryableStatus, RetryCounter, sleep, type RetryPolicy } from './retry';

describe('RateMeter', () => {
  it('measures bytes per second over the window', () => {
    const m = new RateMeter(5000);
    for (let t = 0; t <= 4000; t += 1000) m.add(1_000_000, t);
    expect(m.rate(4000)).toBeCloseTo(1_000_000, 3); // 4 MB after the first sample, in 4 s
  });
  it('forgets samples older than the window (a stall shows as a low rate, not the old average)', () => {
    const m = new RateMeter(2000);
    m.add(10_000_000, 0);
    m.add(10_000_000, 1000);
    m.add(100, 10_000);
    m.add(100, 11_000);
    expect(m.rate(11_000)).toBeCloseTo(100, 3);
    expect(m.rate(20_000)).toBe(0);
  });
  it('is 0 with fewer than two samples', () => {
    const m = new RateMeter();
    expect(m.rate(0)).toBe(0);
    m.add(5, 1);
    expect(m.rate(2)).toBe(0);
    m.add(0, 3); // nothing transferred is not a sample
    expect(m.rate(3)).toBe(0);
  });
});

describe('ETA and percent', () => {
  it('computes the time left and whole percents', () => {
    expect(etaSeconds(10_000_000, 1_000_000)).toBe(10);
    expect(etaSeconds(1, 3)).toBe(1);
    expect(etaSeconds(0, 0)).toBe(0);
    expect(etaSeconds(100, 0)).toBeNull();
    expect(etaSeconds(null, 10)).toBeNull();
    expect(percent(0, 100)).toBe(0);
    expect(percent(996, 1000)).toBe(99);
    expect(percent(1000, 1000)).toBe(100);
    expect(percent(5, null)).toBeNull();
  });
  it('sums files; an unknown size makes the total unknown', () => {
    expect(totals([{ bytesDone: 1, bytesTotal: 10 }, { bytesDone: 2, bytesTotal: 20 }])).toEqual({ bytesDone: 3, bytesTotal: 30 });
    expect(totals([{ bytesDone: 1, bytesTotal: 10 }, { bytesDone: 2, bytesTotal: null }])).toEqual({ bytesDone: 3, bytesTotal: null });
  });
  it('formats durations', () => {
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(250)).toBe('4 min 10 s');
    expect(formatDuration(7500)).toBe('2 h 5 min');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('retry policy', () => {
  const p: RetryPolicy = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 3000 };
  it('backs off exponentially with equal jitter, capped', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(p, n, () => 0))).toEqual([250, 500, 1000, 1500, 1500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(p, n, () => 0.999999))).toEqual([500, 1000, 2000, 3000, 3000]);
  });
  it('gives up after maxAttempts failures in a row; progress resets the count', () => {
    const c = new RetryCounter(p);
    expect(c.fail(false, () => 0)).toBe(250);
    expect(c.fail(false, () => 0)).toBe(500);
    expect(c.fail(true, () => 0)).toBe(250); // that attempt delivered bytes: back to the first retry
    expect(c.fail(false, () => 0)).toBe(500);
    expect(c.fail(false, () => 0)).toBe(1000);
    expect(c.fail(false, () => 0)).toBeNull();
  });
  it('retries only transient HTTP statuses', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 206, 400, 401, 403, 404, 416].some(isRetryableStatus)).toBe(false);
  });
  it('sleep is cut short by an abort', async () => {
    const ac = new AbortController();
    const s = sleep(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(s).rejects.toThrow('stop');
  });
});
