import { describe, expect, it } from 'vitest';
import { CONCERNS, concernTable, databaseConcern, opfsConcern, storageSummary, studioTotal, type UsagePart } from './usage-table';
import { clearableImports } from './unfinished-imports';

const MiB = 1024 * 1024;

/** The situation of the original complaint: 11.1 MiB of models, a browser estimate of 1.84 MiB. */
const parts: UsagePart[] = [
  { key: 'models', bytes: 11.1 * MiB, count: 1 },
  { key: 'imports', bytes: 3 * MiB, count: 1 },
  { key: 'gallery', bytes: 200_000, count: 4 },
  { key: 'concepts', bytes: 900_000, count: 2 },
  { key: 'training', bytes: 40_000, count: 1 },
  { key: 'training', bytes: 5 * MiB, count: 0 }, // the job's checkpoints
  { key: 'loras', bytes: 500, count: 1 }, // the record
  { key: 'loras', bytes: 2 * MiB, count: 0 }, // its file in OPFS
  { key: 'other', bytes: 321, count: 7 },
];

describe('concernTable', () => {
  it('has one row per concern, in order, each the sum of its parts (bytes and items)', () => {
    const rows = concernTable(parts);
    expect(rows.map((r) => r.key)).toEqual(CONCERNS.map((c) => c.key));
    const row = (k: string) => rows.find((r) => r.key === k)!;
    expect(row('training')).toMatchObject({ count: 1, bytes: 40_000 + 5 * MiB });
    expect(row('loras')).toMatchObject({ count: 1, bytes: 2 * MiB + 500 });
    expect(row('scenes')).toMatchObject({ count: 0, bytes: 0 });
    expect(row('app')).toMatchObject({ count: 0, bytes: 0 });
  });

  it('has a studio total that is exactly the sum of the rows and of the parts', () => {
    const rows = concernTable(parts);
    const byHand = parts.reduce((a, p) => a + p.bytes, 0);
    expect(studioTotal(rows)).toBe(rows.reduce((a, r) => a + r.bytes, 0));
    expect(studioTotal(rows)).toBe(byHand);
  });
});

describe('which concern a stored thing belongs to', () => {
  it('maps the studio databases, checkpoints adding bytes to their job without items', () => {
    expect(databaseConcern('cidm-gallery')).toEqual({ key: 'gallery', counts: true });
    expect(databaseConcern('cidm-training-checkpoints')).toEqual({ key: 'training', counts: false });
    expect(databaseConcern('cidm-loras')).toEqual({ key: 'loras', counts: true });
    expect(databaseConcern('cidm-settings')).toEqual({ key: 'other', counts: true });
    expect(databaseConcern('workbox-expiration')).toEqual({ key: 'other', counts: true });
  });

  it('puts OPFS loras/ under LoRAs (counted by their records) and anything else under other', () => {
    expect(opfsConcern('loras')).toEqual({ key: 'loras', counts: false });
    expect(opfsConcern('models')).toEqual({ key: 'other', counts: true });
    expect(opfsConcern('stray.bin')).toEqual({ key: 'other', counts: true });
  });
});

describe('storageSummary', () => {
  it('when the browser lags behind: says so, and "used" is the studio total, never less than the models', () => {
    const rows = concernTable(parts);
    const total = studioTotal(rows);
    const s = storageSummary({ usage: 1.84 * MiB, quota: 100 * MiB }, rows);
    expect(s.browserLags).toBe(true);
    expect(s.browserUsage).toBe(1.84 * MiB);
    expect(s.used).toBe(total);
    expect(s.used).toBeGreaterThanOrEqual(11.1 * MiB);
    expect(s.available).toBe(100 * MiB - total);
    // No overhead segment; the segments add up to "used" and the models' share is theirs of the quota.
    expect(s.segments.some((g) => g.key === 'unattributed')).toBe(false);
    expect(s.segments.reduce((a, g) => a + g.bytes, 0)).toBe(s.used);
    expect(s.segments.find((g) => g.key === 'models')!.fraction).toBeCloseTo(0.111, 12);
    expect(s.usedFraction).toBeCloseTo(total / (100 * MiB), 12);
  });

  it('when the browser counts more: "used" is its estimate and the rest is browser overhead', () => {
    const rows = concernTable([{ key: 'models', bytes: 600, count: 1 }, { key: 'gallery', bytes: 200, count: 2 }]);
    const s = storageSummary({ usage: 1000, quota: 10_000 }, rows);
    expect(s.browserLags).toBe(false);
    expect(s.used).toBe(1000);
    expect(s.studioTotal).toBe(800);
    expect(s.segments.map((g) => [g.key, g.bytes, g.fraction])).toEqual([
      ['models', 600, 0.06],
      ['gallery', 200, 0.02],
      ['unattributed', 200, 0.02],
    ]);
    expect(s.available).toBe(9000);
  });

  it('never lets the bar overflow when the quota itself is below what is stored', () => {
    const rows = concernTable([{ key: 'models', bytes: 900, count: 1 }, { key: 'gallery', bytes: 300, count: 1 }]);
    const s = storageSummary({ usage: 100, quota: 1000 }, rows);
    expect(s.available).toBe(0);
    expect(s.segments.reduce((a, g) => a + g.fraction, 0)).toBeCloseTo(1, 12);
    expect(s.segments[0]!.fraction).toBeCloseTo(0.75, 12);
  });

  it('without an estimate: "used" is the studio total and the bar has no shares', () => {
    const rows = concernTable([{ key: 'scenes', bytes: 50, count: 1 }]);
    const s = storageSummary(null, rows);
    expect(s).toMatchObject({ browserUsage: null, used: 50, quota: 0, available: 0, browserLags: false, usedFraction: 0 });
    expect(s.segments.every((g) => g.fraction === 0)).toBe(true);
  });
});

describe('clearableImports', () => {
  it('takes every unfinished import except those running in this tab, with their bytes', () => {
    const models = [
      { id: 'a', name: 'a', state: 'verified' as const, bytes: 100 },
      { id: 'b', name: 'b', state: 'incomplete' as const, bytes: 30 },
      { id: 'c', name: 'c', state: 'incomplete' as const, bytes: 7 },
      { id: 'd', name: 'd', state: 'incomplete' as const, bytes: 1000 },
    ];
    const r = clearableImports(models, new Set(['d']));
    expect(r.imports.map((m) => m.id)).toEqual(['b', 'c']);
    expect(r.bytes).toBe(37);
    expect(clearableImports(models.slice(0, 1), new Set()).imports).toEqual([]);
  });
});
