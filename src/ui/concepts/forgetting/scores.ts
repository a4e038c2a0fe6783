/**
 * The forgetting dashboard's numbers (issue 11 point 6; spec §5, the paper's forgetting analysis): a
 * ForgettingResult holds matrix[j][i], concept i's denoising loss on its own photos through EWA over
 * the library as it stood after task j. What is drawn is each value relative to the concept's own
 * loss right after it was learned (its diagonal entry, j = i): 1 = nothing forgotten, above 1 = worse.
 * Pure functions, so the scaling and colours are tested without a browser.
 */
import type { ForgettingResult } from '../../../engine/protocol';

/** rel[j][i] = matrix[j][i] / matrix[i][i]; null where either is missing or the diagonal is not positive. */
export function relativeMatrix(matrix: readonly (readonly (number | null)[])[]): (number | null)[][] {
  return matrix.map((row) =>
    row.map((v, i) => {
      const d = matrix[i]?.[i];
      return v === null || v === undefined || d === null || d === undefined || !(d > 0) || !Number.isFinite(v) ? null : v / d;
    }),
  );
}

/** Whether concept i (column) has any score: false for concepts without photos (imported ones). */
export function scoredColumns(r: Pick<ForgettingResult, 'conceptIds' | 'matrix'>): boolean[] {
  return r.conceptIds.map((_, i) => r.matrix.some((row) => row[i] !== null && row[i] !== undefined));
}

/** Per concept: its relative loss after the last task minus 1 (0.12 = 12% worse than when learned); null if unscored or the newest. */
export function forgettingPerConcept(rel: readonly (readonly (number | null)[])[]): (number | null)[] {
  const last = rel.length - 1;
  return (rel[0] ?? []).map((_, i) => {
    if (i >= last) return null;
    const v = rel[last]?.[i];
    return v === null || v === undefined ? null : v - 1;
  });
}

/** The mean of the non-null per-concept forgetting values, or null when there are none. */
export function averageForgetting(perConcept: readonly (number | null)[]): number | null {
  const xs = perConcept.filter((x): x is number => x !== null);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/**
 * The colour scale's position in [-1, 1]: log2 of the relative loss over `span` octaves (default ½:
 * ×√2 worse is full red, ×1/√2 better full green), so equal ratios up and down look equally strong.
 */
export function heatPosition(rel: number, span = 0.5): number {
  if (!(rel > 0)) return 0;
  return Math.max(-1, Math.min(1, Math.log2(rel) / span));
}

/** A cell's background: neutral grey at 1, towards red when the concept got worse, green when better. */
export function heatColor(rel: number | null, span = 0.5): string {
  if (rel === null) return 'transparent';
  const t = heatPosition(rel, span);
  const [r, g, b] = t >= 0 ? [255, 107, 107] : [62, 207, 142];
  const a = 0.12 + 0.68 * Math.abs(t);
  return `rgba(${r}, ${g}, ${b}, ${a.toFixed(3)})`;
}

/** "1.07×" for a cell; "—" when there is no value. */
export function formatRelative(rel: number | null): string {
  return rel === null ? '—' : `${rel.toFixed(2)}×`;
}

/** The y-range of the line chart: covers every value and 1, padded by 5%. */
export function chartRange(rel: readonly (readonly (number | null)[])[]): [number, number] {
  let lo = 1;
  let hi = 1;
  for (const row of rel) for (const v of row) if (v !== null) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const pad = Math.max(0.05, (hi - lo) * 0.05);
  return [lo - pad, hi + pad];
}

/** One concept's line: (task j, relative loss) from its own task on; null values leave a gap. */
export function conceptSeries(rel: readonly (readonly (number | null)[])[], i: number): { j: number; v: number }[] {
  const out: { j: number; v: number }[] = [];
  rel.forEach((row, j) => {
    const v = row[i];
    if (j >= i && v !== null && v !== undefined) out.push({ j, v });
  });
  return out;
}
