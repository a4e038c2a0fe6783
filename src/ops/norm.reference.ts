/**
 * Plain-TS GroupNorm and LayerNorm (PyTorch semantics: biased variance, eps inside the square root),
 * two-pass in f64, for the kernel tests.
 */

export interface GroupNormReferenceOptions {
  groups: number;
  eps?: number;
  silu?: boolean;
}

/** Mean and biased variance of data[start, start + n), two-pass in f64. */
function moments(data: ArrayLike<number>, start: number, n: number): [number, number] {
  let s = 0;
  for (let i = 0; i < n; i++) s += data[start + i]!;
  const mean = s / n;
  let q = 0;
  for (let i = 0; i < n; i++) q += (data[start + i]! - mean) ** 2;
  return [mean, q / n];
}

const silu = (v: number) => v / (1 + Math.exp(-v));

export function groupNormReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  options: GroupNormReferenceOptions,
): Float32Array {
  const [n, c] = shape as [number, number];
  const hw = shape.slice(2).reduce((a, b) => a * b, 1);
  const cg = c / options.groups;
  const eps = options.eps ?? 1e-5;
  const out = new Float32Array(n * c * hw);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < options.groups; g++) {
      const start = (b * c + g * cg) * hw;
      const [mean, variance] = moments(x, start, cg * hw);
      const rstd = 1 / Math.sqrt(variance + eps);
      for (let i = 0; i < cg * hw; i++) {
        const ch = g * cg + Math.floor(i / hw);
        const y = (x[start + i]! - mean) * rstd * gamma[ch]! + beta[ch]!;
        out[start + i] = options.silu ? silu(y) : y;
      }
    }
  }
  return out;
}

export function layerNormReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps = 1e-5,
): Float32Array {
  const d = shape[shape.length - 1]!;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const [mean, variance] = moments(x, r * d, d);
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < d; i++) out[r * d + i] = (x[r * d + i]! - mean) * rstd * gamma[i]! + beta[i]!;
  }
  return out;
}
