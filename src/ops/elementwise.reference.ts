/**
 * Plain-TS references for the elementwise ops, in f64. Broadcasting here walks multi-indices
 * directly (not the op's collapsed strides), so the test compares two independent formulations.
 */
import type { Activation, BinaryOp } from './elementwise';

/**
 * erf in f64 from the everywhere-convergent series with positive terms
 *   erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))
 * (Abramowitz & Stegun 7.1.6). No cancellation: relative error ~1e-16 for |x| <= 6; beyond,
 * 1 - |erf| < 2e-17 and ±1 is exact in f64.
 */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (Number.isNaN(x)) return NaN;
  if (ax > 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 0; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

const sigmoid64 = (t: number) => 1 / (1 + Math.exp(-t));

export function activation64(act: Activation, v: number): number {
  switch (act) {
    case 'none':
      return v;
    case 'silu':
      return v * sigmoid64(v);
    case 'gelu':
      return 0.5 * v * (1 + erf64(v / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    case 'quick_gelu':
      return v * sigmoid64(1.702 * v);
    case 'erf':
      return erf64(v);
  }
}

/** act(alpha * x + beta) per element. */
export function unaryReference(act: Activation, x: ArrayLike<number>, alpha = 1, beta = 0): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = activation64(act, alpha * x[i]! + beta);
  return out;
}

/** numpy broadcast shape, computed independently of the op's helper. */
export function broadcastShapeReference(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const pa = [...new Array<number>(rank - a.length).fill(1), ...a];
  const pb = [...new Array<number>(rank - b.length).fill(1), ...b];
  return pa.map((d, i) => {
    const e = pb[i]!;
    if (d !== e && d !== 1 && e !== 1) throw new RangeError(`no broadcast of ${d} and ${e}`);
    return Math.max(d, e) === 1 ? 1 : d === 1 ? e : d;
  });
}

/** Flat index in `shape` of the out multi-index `idx` (right-aligned; size-1 dims repeat). */
function sourceIndex(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  const skip = idx.length - shape.length;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + (shape[d] === 1 ? 0 : idx[skip + d]!);
  return flat;
}

export function binaryReference(
  op: BinaryOp,
  a: ArrayLike<number>,
  aShape: readonly number[],
  b: ArrayLike<number>,
  bShape: readonly number[],
  activation: Activation = 'none',
): { shape: number[]; data: Float64Array } {
  const shape = broadcastShapeReference(aShape, bShape);
  const count = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(count);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    const x = a[sourceIndex(idx, aShape)]!;
    const y = b[sourceIndex(idx, bShape)]!;
    const v = op === 'add' ? x + y : op === 'sub' ? x - y : x * y;
    data[i] = activation64(activation, v);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape, data };
}
