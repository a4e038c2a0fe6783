/** Plain-TS references for softmax and the sum/mean reductions, in f64 (compensated sums). */

/** Neumaier's compensated sum: f64 rounding error independent of the count (Higham, 2nd ed., 4.3). */
export function sum64(x: ArrayLike<number>, start = 0, end = x.length): number {
  let s = 0;
  let c = 0;
  for (let i = start; i < end; i++) {
    const v = x[i]!;
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** softmax(scale * x) over rows of `cols` elements, with the max subtracted first. */
export function softmaxReference(x: ArrayLike<number>, cols: number, scale = 1): Float64Array {
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += cols) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, scale * x[base + j]!);
    for (let j = 0; j < cols; j++) out[base + j] = Math.exp(scale * x[base + j]! - m);
    const s = sum64(out, base, base + cols);
    for (let j = 0; j < cols; j++) out[base + j]! /= s;
  }
  return out;
}

/** Per-row sums (or means) of rows of `cols` elements. */
export function rowSumReference(x: ArrayLike<number>, cols: number, mean = false): Float64Array {
  const rows = cols === 0 ? 0 : x.length / cols;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = sum64(x, r * cols, (r + 1) * cols) / (mean ? cols : 1);
  return out;
}
