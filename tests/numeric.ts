/** Seeded random data and tolerance checks shared by the kernel tests. */

/** mulberry32: a small, fast, seeded PRNG (deterministic test data). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export interface Comparison {
  maxAbs: number;
  /** maxAbs relative to the output's scale, max |expected| (never below 1e-30). */
  maxRel: number;
  scale: number;
  worstIndex: number;
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): Comparison {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let maxAbs = 0;
  let scale = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    const d = Math.abs(a - e);
    if (!(d <= maxAbs)) {
      // also catches NaN in either operand
      maxAbs = Number.isNaN(d) ? Infinity : d;
      worstIndex = i;
    }
    scale = Math.max(scale, Math.abs(e));
  }
  return { maxAbs, maxRel: maxAbs / Math.max(scale, 1e-30), scale, worstIndex };
}

export function describeComparison(c: Comparison): string {
  return `max_abs=${c.maxAbs.toExponential(3)} max_rel=${c.maxRel.toExponential(3)} scale=${c.scale.toPrecision(4)} at=${c.worstIndex}`;
}
