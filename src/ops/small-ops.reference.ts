/**
 * Plain-TS references for the small UNet kernels (GEGLU, nearest upsample, concat). They compute in
 * f64 and follow PyTorch's definitions, including its float32 index arithmetic for 'nearest', so the
 * GPU kernels can be compared with them on any shape.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) to ~1e-14 in f64 (JS has no Math.erf). |x| < 2.5: Maclaurin series (Abramowitz & Stegun
 * 7.1.5); otherwise 1 - erfc(|x|) by the continued fraction A&S 7.1.14, evaluated backwards.
 */
export function erfReference(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  const sign = x < 0 ? -1 : 1;
  if (a < 2.5) {
    const x2 = a * a;
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const c = term / (2 * n + 1);
      sum += c;
      if (Math.abs(c) < 1e-17 * Math.abs(sum)) break;
    }
    return sign * TWO_OVER_SQRT_PI * sum;
  }
  return sign * (1 - erfcLarge(a));
}

/** erfc(a) for a >= 2.5: e^(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))) (A&S 7.1.14). */
function erfcLarge(a: number): number {
  let f = a;
  for (let k = 80; k >= 1; k--) f = a + k / 2 / f;
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

/** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016; torch GELU(approximate='none')). */
export function geluErfReference(x: number): number {
  return 0.5 * x * (1 + erfReference(x * Math.SQRT1_2));
}

/**
 * diffusers GEGLU after its projection: h is [rows, 2F]; hidden, gate = h.chunk(2, -1);
 * out[r, j] = hidden[r, j] · gelu(gate[r, j]).
 */
export function gegluReference(h: ArrayLike<number>, rows: number, features: number): Float32Array {
  if (h.length !== rows * 2 * features) throw new RangeError(`geglu reference: ${h.length} != ${rows}·2·${features}`);
  const out = new Float32Array(rows * features);
  for (let r = 0; r < rows; r++) {
    const base = r * 2 * features;
    for (let j = 0; j < features; j++) {
      out[r * features + j] = h[base + j]! * geluErfReference(h[base + features + j]!);
    }
  }
  return out;
}

/**
 * The float32 scale PyTorch's legacy 'nearest' uses when only the output size is given:
 * compute_scales_value = (float)in / out (aten/src/ATen/native/UpSample.h). With scale_factor=2 it is
 * 1/2, the same value.
 */
export function nearestScale(inSize: number, outSize: number): number {
  return Math.fround(inSize / outSize);
}

/** PyTorch nearest_idx: min(floorf(dst · scale), in - 1), the product rounded to float32. */
export function nearestSourceIndex(dst: number, inSize: number, outSize: number): number {
  return Math.min(Math.floor(Math.fround(dst * nearestScale(inSize, outSize))), inSize - 1);
}

/** F.interpolate(x, size=(outH, outW), mode='nearest') on NCHW data. */
export function upsampleNearestReference(
  x: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  outH: number,
  outW: number,
): Float32Array {
  const [n, c, h, w] = shape;
  if (x.length !== n * c * h * w) throw new RangeError(`upsample reference: ${x.length} values for [${shape.join(', ')}]`);
  const out = new Float32Array(n * c * outH * outW);
  const sy = Array.from({ length: outH }, (_, oy) => nearestSourceIndex(oy, h, outH));
  const sx = Array.from({ length: outW }, (_, ox) => nearestSourceIndex(ox, w, outW));
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        out[(p * outH + oy) * outW + ox] = x[(p * h + sy[oy]!) * w + sx[ox]!]!;
      }
    }
  }
  return out;
}

export interface HostTensor {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** torch.cat(inputs, dim=axis): every dimension but `axis` must agree. */
export function concatReference(inputs: readonly HostTensor[], axis: number): { data: Float32Array; shape: number[] } {
  const first = inputs[0];
  if (!first) throw new RangeError('concat reference: no inputs');
  const rank = first.shape.length;
  const outer = first.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = first.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const total = inputs.reduce((s, t) => s + t.shape[axis]!, 0);
  const shape = [...first.shape];
  shape[axis] = total;
  const out = new Float32Array(outer * total * inner);
  let offset = 0;
  for (const t of inputs) {
    if (t.shape.length !== rank) throw new RangeError('concat reference: ranks differ');
    const row = t.shape[axis]! * inner;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < row; j++) out[o * total * inner + offset + j] = t.data[o * row + j]!;
    }
    offset += row;
  }
  return { data: out, shape };
}
