/**
 * Plain-TS conv2d gradients (PyTorch semantics, NCHW, weight [Cout, Cin, kh, kw], zero padding),
 * accumulated in f64, for the kernel tests. Written as the scatter of the forward's seven loops (every
 * (output, tap) pair adds its product to dX and dW), so they share no indexing scheme with the
 * gather-form shaders they check.
 */
export interface Conv2dGradGeometry {
  /** x [N, Cin, H, W]. */
  xShape: readonly [number, number, number, number];
  /** weight [Cout, Cin, kh, kw]. */
  wShape: readonly [number, number, number, number];
  stride: number;
  padding: number;
}

function outSize(g: Conv2dGradGeometry): [number, number] {
  const [, , h, w] = g.xShape;
  const [, , kh, kw] = g.wShape;
  return [Math.floor((h + 2 * g.padding - kh) / g.stride) + 1, Math.floor((w + 2 * g.padding - kw) / g.stride) + 1];
}

/** Visits every (n, co, oy, ox, ci, ky, kx) whose tap lands inside x, with the flat dY, x and W indices. */
function forEachTap(g: Conv2dGradGeometry, visit: (yi: number, xi: number, wi: number) => void): void {
  const [n, cin, h, w] = g.xShape;
  const [cout, , kh, kw] = g.wShape;
  const [ho, wo] = outSize(g);
  for (let b = 0; b < n; b++)
    for (let co = 0; co < cout; co++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          const yi = ((b * cout + co) * ho + oy) * wo + ox;
          for (let ci = 0; ci < cin; ci++)
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * g.stride - g.padding + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * g.stride - g.padding + kx;
                if (ix < 0 || ix >= w) continue;
                visit(yi, ((b * cin + ci) * h + iy) * w + ix, ((co * cin + ci) * kh + ky) * kw + kx);
              }
            }
        }
}

/** dX [N, Cin, H, W] = conv_transpose2d(dY, W) restored to x's size. */
export function conv2dInputGradReference(dY: ArrayLike<number>, weight: ArrayLike<number>, g: Conv2dGradGeometry): Float32Array {
  const acc = new Float64Array(g.xShape.reduce((a, b) => a * b, 1));
  forEachTap(g, (yi, xi, wi) => {
    acc[xi]! += dY[yi]! * weight[wi]!;
  });
  return Float32Array.from(acc);
}

/** dW [Cout, Cin, kh, kw] = Σ dY · x over every tap. */
export function conv2dWeightGradReference(x: ArrayLike<number>, dY: ArrayLike<number>, g: Conv2dGradGeometry): Float32Array {
  const acc = new Float64Array(g.wShape.reduce((a, b) => a * b, 1));
  forEachTap(g, (yi, xi, wi) => {
    acc[wi]! += dY[yi]! * x[xi]!;
  });
  return Float32Array.from(acc);
}

/** db [C] = Σ_{n,y,x} dY[n, c, y, x] for dY [N, C, H, W]. */
export function biasGradReference(dY: ArrayLike<number>, shape: readonly [number, number, number, number]): Float32Array {
  const [n, c, h, w] = shape;
  const acc = new Float64Array(c);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) acc[ch]! += dY[(b * c + ch) * h * w + p]!;
  return Float32Array.from(acc);
}
