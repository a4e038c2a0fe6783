/**
 * Plain-TS GroupNorm (+ SiLU) and LayerNorm backward in f64, for the kernel tests. Written from the
 * chain rule directly (two-pass statistics, then dz, then the projection formula), independent of the
 * kernels' shifted sums and chunking. PyTorch semantics: biased variance, eps inside the square root.
 */

export interface NormGradsReference {
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

export interface GroupNormBackwardReferenceOptions {
  groups: number;
  eps?: number;
  silu?: boolean;
}

/** Mean and 1/sqrt(biased variance + eps) of data[start, start + n), two-pass in f64. */
function rowStats(data: ArrayLike<number>, start: number, n: number, eps: number): [number, number] {
  let s = 0;
  for (let i = 0; i < n; i++) s += data[start + i]!;
  const mean = s / n;
  let q = 0;
  for (let i = 0; i < n; i++) q += (data[start + i]! - mean) ** 2;
  return [mean, 1 / Math.sqrt(q / n + eps)];
}

/** d silu(z)/dz = s·(1 + z·(1 − s)), s = σ(z). */
export function siluDerivative(z: number): number {
  const s = 1 / (1 + Math.exp(-z));
  return s * (1 + z * (1 - s));
}

/**
 * dx over one normalised set of n elements at `idx(i)`: dx = r·(g − mean g − x̂·mean(g·x̂)), g = dz·γ.
 * Writes dx and returns nothing; xh and g are the set's x̂ and g.
 */
function project(dx: Float32Array, idx: (i: number) => number, xh: Float64Array, g: Float64Array, rstd: number): void {
  const n = xh.length;
  let sg = 0;
  let sgx = 0;
  for (let i = 0; i < n; i++) {
    sg += g[i]!;
    sgx += g[i]! * xh[i]!;
  }
  for (let i = 0; i < n; i++) dx[idx(i)] = rstd * (g[i]! - sg / n - (xh[i]! * sgx) / n);
}

export function groupNormBackwardReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  dY: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  options: GroupNormBackwardReferenceOptions,
): NormGradsReference {
  const [n, c] = shape as [number, number];
  const hw = shape.slice(2).reduce((a, b) => a * b, 1);
  const cg = c / options.groups;
  const eps = options.eps ?? 1e-5;
  const size = cg * hw;
  const dx = new Float32Array(n * c * hw);
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  const xh = new Float64Array(size);
  const g = new Float64Array(size);
  for (let b = 0; b < n; b++) {
    for (let grp = 0; grp < options.groups; grp++) {
      const start = (b * c + grp * cg) * hw;
      const [mean, rstd] = rowStats(x, start, size, eps);
      for (let i = 0; i < size; i++) {
        const ch = grp * cg + Math.floor(i / hw);
        xh[i] = (x[start + i]! - mean) * rstd;
        const z = xh[i]! * gamma[ch]! + beta[ch]!;
        const dz = dY[start + i]! * (options.silu ? siluDerivative(z) : 1);
        g[i] = dz * gamma[ch]!;
        dgamma[ch] = dgamma[ch]! + dz * xh[i]!;
        dbeta[ch] = dbeta[ch]! + dz;
      }
      project(dx, (i) => start + i, xh, g, rstd);
    }
  }
  return { dx, dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
}

export function layerNormBackwardReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  dY: ArrayLike<number>,
  gamma: ArrayLike<number>,
  eps = 1e-5,
): NormGradsReference {
  const d = shape[shape.length - 1]!;
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const dx = new Float32Array(rows * d);
  const dgamma = new Float64Array(d);
  const dbeta = new Float64Array(d);
  const xh = new Float64Array(d);
  const g = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const [mean, rstd] = rowStats(x, r * d, d, eps);
    for (let i = 0; i < d; i++) {
      xh[i] = (x[r * d + i]! - mean) * rstd;
      g[i] = dY[r * d + i]! * gamma[i]!;
      dgamma[i] = dgamma[i]! + dY[r * d + i]! * xh[i]!;
      dbeta[i] = dbeta[i]! + dY[r * d + i]!;
    }
    project(dx, (i) => r * d + i, xh, g, rstd);
  }
  return { dx, dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
}
