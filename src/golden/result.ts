/** One golden comparison and the line the runner prints for it. */

export interface CaseResult {
  name: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
  maxAbs?: number;
  /** maxAbs relative to max |expected| (the output's scale). */
  maxRel?: number;
  tol?: number;
  why?: string;
}

export function measure(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): CaseResult {
  if (actual.length !== expected.length) {
    return { name, status: 'FAIL', why: `got ${actual.length} values, expected ${expected.length}` };
  }
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  const maxRel = maxAbs / Math.max(scale, 1e-30);
  return { name, status: maxRel <= tol ? 'PASS' : 'FAIL', maxAbs, maxRel, tol };
}

export function formatResult(r: CaseResult): string {
  if (r.status === 'SKIP') return `${r.name} SKIP ${r.why ?? ''}`.trimEnd();
  if (r.maxAbs === undefined) return `${r.name} ${r.status} ${r.why ?? ''}`.trimEnd();
  const e = (x: number) => x.toExponential(2);
  return `${r.name} ${r.status} max_abs=${e(r.maxAbs)} max_rel=${e(r.maxRel!)} tol=${e(r.tol!)}`;
}
