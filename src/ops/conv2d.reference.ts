/**
 * Plain-TS conv2d (PyTorch semantics: NCHW, weight [Cout, Cin, kh, kw], zero padding, cross-correlation),
 * accumulated in f64, for the kernel tests. Deliberately the direct seven-loop form, not a GEMM, so it
 * shares no indexing scheme with the shader it checks.
 */
import { conv2dOutputSize } from './conv2d';

export interface Conv2dReferenceOptions {
  stride?: number;
  padding?: number;
  /** Zero rows [above, below], replacing `padding` vertically (conv2d's rowPadding). */
  rowPadding?: readonly [number, number];
  bias?: ArrayLike<number> | null;
  /** Same shape as the output; added after the bias. */
  residual?: ArrayLike<number> | null;
}

export interface ReferenceResult {
  data: Float32Array;
  shape: number[];
}

export function conv2dReference(
  x: ArrayLike<number>,
  xShape: readonly number[],
  weight: ArrayLike<number>,
  wShape: readonly number[],
  options: Conv2dReferenceOptions = {},
): ReferenceResult {
  const [n, cin, h, w] = xShape as [number, number, number, number];
  const [cout, wcin, kh, kw] = wShape as [number, number, number, number];
  if (wcin !== cin) throw new RangeError(`weight expects ${wcin} input channels, x has ${cin}`);
  const stride = options.stride ?? 1;
  const pad = options.padding ?? Math.floor(kh / 2);
  const top = options.rowPadding ? options.rowPadding[0] : pad;
  const [ho, wo] = conv2dOutputSize(h, w, kh, kw, stride, pad, 0, options.rowPadding);
  const out = new Float32Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let s = options.bias ? options.bias[co]! : 0;
          for (let ci = 0; ci < cin; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * stride - top + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= w) continue;
                s += x[((b * cin + ci) * h + iy) * w + ix]! * weight[((co * cin + ci) * kh + ky) * kw + kx]!;
              }
            }
          }
          const i = ((b * cout + co) * ho + oy) * wo + ox;
          out[i] = s + (options.residual ? options.residual[i]! : 0);
        }
      }
    }
  }
  return { data: out, shape: [n, cout, ho, wo] };
}
