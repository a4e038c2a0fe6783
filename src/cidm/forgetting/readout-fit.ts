/**
 * The warm-up's readout refit (warmup.ts, `readout` option): conv_out, the UNet's last layer, replaced by
 * the least-squares fit of ε from its own input features, in closed form.
 *
 * Why: the tiny golden SDXL's random conv_out reads its random features into an ε̂ far worse than
 * predicting zero (masked loss ≈ 5–6 where ε̂ = 0 gives ≈ C = 4). Gradient steps on every conv only reach
 * that zero predictor in the steps a test can afford (measured: loss ≈ 4 after 48 steps). A linear
 * readout is the one part that has an exact optimum: with f the 3×3 neighbourhood of conv_out's input at a
 * pixel (C·9 values and a 1 for the bias) and y the noise there, minimise Σ m·|Wf − y|² over the masked
 * pixels m of fresh training draws (the masked loss, diffusion-loss.ts, up to its normalisation):
 *   (Σ m f fᵀ + λI) W = Σ m f yᵀ      (ridge normal equations, solved by Cholesky in f64).
 * The result is the best ε̂ this network's features allow, so a concept's LoRA (which moves those features)
 * has something to move: what it learns then shows in its loss.
 */

/** Running sums of the normal equations for one conv (kernel k×k, zero padding (k−1)/2, stride 1). */
export class ReadoutFit {
  readonly dim: number;
  /** Σ m f fᵀ, [dim, dim] row-major. */
  private readonly a: Float64Array;
  /** Σ m f yᵀ, [dim, out]. */
  private readonly b: Float64Array;
  pixels = 0;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel = 3) {
    this.dim = inChannels * kernel * kernel + 1;
    this.a = new Float64Array(this.dim * this.dim);
    this.b = new Float64Array(this.dim * outChannels);
  }

  /** x [B, C, H, W], y [B, out, H, W], mask [B, H, W] (weights ≥ 0). */
  add(x: Float32Array, y: Float32Array, mask: Float32Array, batch: number, h: number, w: number): void {
    const { inChannels: C, outChannels: O, kernel: k, dim } = this;
    if (x.length !== batch * C * h * w || y.length !== batch * O * h * w || mask.length !== batch * h * w) {
      throw new RangeError(`readout fit: sizes x ${x.length}, y ${y.length}, mask ${mask.length} do not match ${batch}×(${C}|${O}|1)×${h}×${w}`);
    }
    const pad = (k - 1) / 2;
    const f = new Float64Array(dim);
    for (let n = 0; n < batch; n++)
      for (let py = 0; py < h; py++)
        for (let px = 0; px < w; px++) {
          const m = mask[(n * h + py) * w + px]!;
          if (m <= 0) continue;
          // f: index ci·k² + ky·k + kx, as the conv weight [out, in, k, k] is laid out; last entry 1 (bias)
          for (let ci = 0; ci < C; ci++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const sy = py + ky - pad;
                const sx = px + kx - pad;
                f[(ci * k + ky) * k + kx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? x[((n * C + ci) * h + sy) * w + sx]! : 0;
              }
          f[dim - 1] = 1;
          for (let i = 0; i < dim; i++) {
            const mi = m * f[i]!;
            if (mi === 0) continue;
            const row = i * dim;
            for (let j = i; j < dim; j++) this.a[row + j]! += mi * f[j]!;
            for (let o = 0; o < O; o++) this.b[i * O + o]! += mi * y[((n * O + o) * h + py) * w + px]!;
          }
          this.pixels++;
        }
  }

  /**
   * Solves the ridge normal equations; λ = `ridge` × the mean diagonal of Σ m f fᵀ (scale-free).
   * Returns the conv's weight [out, in, k, k] and bias [out].
   */
  solve(ridge = 1e-4): { weight: Float32Array; bias: Float32Array } {
    const { dim, outChannels: O } = this;
    if (this.pixels < dim) throw new RangeError(`readout fit: ${this.pixels} pixels cannot determine ${dim} unknowns`);
    const a = new Float64Array(dim * dim);
    let trace = 0;
    for (let i = 0; i < dim; i++) trace += this.a[i * dim + i]!;
    const lambda = (ridge * trace) / dim;
    for (let i = 0; i < dim; i++)
      for (let j = i; j < dim; j++) {
        const v = this.a[i * dim + j]! + (i === j ? lambda : 0);
        a[i * dim + j] = v;
        a[j * dim + i] = v;
      }
    const l = cholesky(a, dim);
    const weight = new Float32Array(O * (dim - 1));
    const bias = new Float32Array(O);
    const rhs = new Float64Array(dim);
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < dim; i++) rhs[i] = this.b[i * O + o]!;
      const sol = choleskySolve(l, dim, rhs);
      weight.set(Array.from(sol.subarray(0, dim - 1)), o * (dim - 1));
      bias[o] = sol[dim - 1]!;
    }
    return { weight, bias };
  }
}

/** Lower-triangular L with A = L·Lᵀ (A symmetric positive definite, row-major). */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`readout fit: the normal equations are not positive definite (pivot ${i}: ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j]!;
      }
    }
  return l;
}

/** x with L·Lᵀ·x = b. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * z[k]!;
    z[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}
