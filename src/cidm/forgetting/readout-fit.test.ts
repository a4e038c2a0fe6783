import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolve, ReadoutFit } from './readout-fit';
import { randomArray } from '../../../tests/numeric';

/** y = conv3×3(x; W, b) with zero padding, in plain TS (the layout the fit's weight must come back in). */
function conv3(x: Float32Array, w: Float32Array, b: Float32Array, B: number, C: number, O: number, h: number, wd: number): Float32Array {
  const y = new Float32Array(B * O * h * wd);
  for (let n = 0; n < B; n++)
    for (let o = 0; o < O; o++)
      for (let py = 0; py < h; py++)
        for (let px = 0; px < wd; px++) {
          let s = b[o]!;
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const sy = py + ky - 1;
                const sx = px + kx - 1;
                if (sy >= 0 && sy < h && sx >= 0 && sx < wd) s += w[((o * C + c) * 3 + ky) * 3 + kx]! * x[((n * C + c) * h + sy) * wd + sx]!;
              }
          y[((n * O + o) * h + py) * wd + px] = s;
        }
  return y;
}

describe('readout fit (the warm-up\'s closed-form conv_out)', () => {
  it('Cholesky solves a symmetric positive definite system', () => {
    const n = 5;
    const m = randomArray(n * n, 3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j]! += m[i * n + k]! * m[j * n + k]!;
    for (let i = 0; i < n; i++) a[i * n + i]! += 0.5;
    const x = Float64Array.from(randomArray(n, 4));
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i]! += a[i * n + j]! * x[j]!;
    const got = choleskySolve(cholesky(a, n), n, b);
    got.forEach((v, i) => expect(v).toBeCloseTo(x[i]!, 9));
  });

  it('recovers a 3×3 conv (weight layout and bias) from its inputs and outputs on the masked pixels', () => {
    const [B, C, O, h, w] = [3, 2, 3, 5, 7];
    const x = randomArray(B * C * h * w, 5);
    const wt = randomArray(O * C * 9, 6);
    const bias = randomArray(O, 7);
    const y = conv3(x, wt, bias, B, C, O, h, w);
    const mask = randomArray(B * h * w, 8, -0.5, 1).map((v) => Math.max(0, v)); // some pixels left out
    const fit = new ReadoutFit(C, O, 3);
    fit.add(x, y, mask, B, h, w);
    const got = fit.solve(1e-12);
    got.weight.forEach((v, i) => expect(v).toBeCloseTo(wt[i]!, 4));
    got.bias.forEach((v, i) => expect(v).toBeCloseTo(bias[i]!, 4));
  });

  it('refuses too few pixels and mismatched sizes by name', () => {
    const fit = new ReadoutFit(4, 2, 3);
    expect(() => fit.solve()).toThrow(/cannot determine 37 unknowns/);
    expect(() => fit.add(new Float32Array(3), new Float32Array(2), new Float32Array(1), 1, 1, 1)).toThrow(/do not match/);
  });
});
