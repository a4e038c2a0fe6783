/**
 * The single-precision log and sincos that torch's CPU `randn` uses for 16+ float values on x86-64
 * (ATen/native/cpu/avx_mathfun.h: Giovanni Garberoglio's AVX port of Julien Pommier's sse_mathfun,
 * i.e. the Cephes logf/sinf/cosf polynomials), reproduced one lane at a time, bit for bit.
 *
 * Every IEEE operation is rounded to f32 with Math.fround (f64 → f32 double rounding is harmless for
 * +, −, ×, √ of f32 operands: 53 ≥ 2·24 + 2, Figueroa 1995). torch compiles this file with
 * `-mavx2 -mfma` and GCC's default `-ffp-contract=fast`, so GCC fuses every multiply whose only use is
 * an add or subtract into one FMA (tree-ssa-math-opts, in statement order: the first such multiply
 * feeding an add wins). Those fusions change the last bit of ~1% of the values, so they are modelled
 * site by site below (`fmaf`); with them all 6 × 3,935 reference values of torch 1.13.1 match exactly,
 * and without them ~240 do not.
 */

const f32 = Math.fround;

const word = new DataView(new ArrayBuffer(4));

/** The f32 next to r in the direction of s (r ≠ s, both finite). */
function nextFloatToward(r: number, s: number): number {
  if (r === 0) return s > 0 ? 2 ** -149 : -(2 ** -149);
  word.setFloat32(0, r);
  const w = word.getUint32(0);
  const awayFromZero = s > r === r > 0;
  word.setUint32(0, awayFromZero ? w + 1 : w - 1);
  return word.getFloat32(0);
}

/**
 * fmaf(a, b, c) = round_f32(a·b + c) with one rounding, for f32 a, b, c. a·b is exact in f64 (48-bit
 * product); the f64 sum s is rounded once, and rounding s again to f32 is wrong only when s lands exactly
 * on an f32 midpoint while the f64 addition was inexact — the TwoSum error (Knuth, TAOCP 4.2.2) says on
 * which side the exact sum lies.
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f32(s);
  if (r === s) return r;
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  if (err === 0) return r;
  const other = nextFloatToward(r, s);
  if ((r + other) / 2 !== s) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}

// The constants as avx_mathfun.h's float arrays hold them (double literals rounded to f32).
const SQRTHF = f32(0.707106781186547524);
const LOG_P = [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1].map(f32);
const LOG_Q1 = f32(-2.1219444e-4);
const LOG_Q2 = f32(0.693359375);
const FOPI = f32(1.27323954473516); // 4/π
const MINUS_DP1 = f32(-0.78515625);
const MINUS_DP2 = f32(-2.4187564849853515625e-4);
const MINUS_DP3 = f32(-3.77489497744594108e-8);
const SINCOF = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f32);
const COSCOF = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f32);
/** normal_fill_AVX2's `_mm256_set1_ps(2.0f * c10::pi<double>)`. */
export const TWO_PI = f32(2 * Math.PI);

/** log256_ps for one lane, v a positive normal f32: Cephes logf (frexp, then a degree-9 polynomial). */
export function avxLogf(v: number): number {
  word.setFloat32(0, v);
  const w = word.getUint32(0);
  word.setUint32(0, (w & ~0x7f800000) | 0x3f000000); // the mantissa with 0.5's exponent: [0.5, 1)
  let x = word.getFloat32(0);
  let e = f32(f32((w >>> 23) - 0x7f) + 1);
  // if (x < √½) { e -= 1; x = x + x − 1 } else x = x − 1, branch-free as the AVX code does it.
  const below = x < SQRTHF;
  const tmp = below ? x : 0;
  x = f32(x - 1);
  e = f32(e - (below ? 1 : 0));
  x = f32(x + tmp);
  const z = f32(x * x);
  let y = LOG_P[0]!;
  for (let k = 1; k < LOG_P.length; k++) y = fmaf(y, x, LOG_P[k]!); // y·x + p_k fused
  y = f32(y * x);
  y = fmaf(y, z, f32(e * LOG_Q1)); // y·z is the first multiply feeding the add
  y = f32(y - f32(z * 0.5)); // = fnmadd(z, 0.5, y): z·0.5 is exact either way
  x = f32(x + y);
  return fmaf(e, LOG_Q2, x);
}

/** sincos256_ps for one lane: Cephes octant reduction, then the sine and cosine polynomials. */
export function avxSincosf(v: number): { sin: number; cos: number } {
  const sinNegative = v < 0 || Object.is(v, -0);
  let x = Math.abs(v);
  let j = Math.trunc(f32(x * FOPI)); // cvttps: truncation toward zero
  j = (j + 1) & ~1; // j = (j + 1) & ~1, the Cephes octant
  const y = f32(j);
  const swapSinSign = (j & 4) !== 0;
  const cosNegative = ((j - 2) & 4) === 0;
  const swapPolys = (j & 2) !== 0; // here sin comes from the cosine polynomial and cos from the sine one
  // "Extended precision modular arithmetic": x − j·π/4 with π/4 split in three parts, each step fused.
  x = fmaf(y, MINUS_DP1, x);
  x = fmaf(y, MINUS_DP2, x);
  x = fmaf(y, MINUS_DP3, x);
  const z = f32(x * x);
  let c = fmaf(COSCOF[0]!, z, COSCOF[1]!);
  c = fmaf(c, z, COSCOF[2]!);
  c = f32(c * z);
  c = fmaf(c, z, -f32(z * 0.5)); // c·z comes before z·0.5, so it is the multiply fused into the subtract
  c = f32(c + 1);
  let s = fmaf(SINCOF[0]!, z, SINCOF[1]!);
  s = fmaf(s, z, SINCOF[2]!);
  s = f32(s * z);
  s = fmaf(s, x, x);
  // The masked blend adds +0 to the chosen polynomial (turning −0 into +0) before the sign flips.
  const sinAbs = swapPolys ? f32(c + 0) : f32(0 + s);
  const cosAbs = swapPolys ? f32(0 + s) : f32(c + 0);
  return { sin: sinNegative !== swapSinSign ? -sinAbs : sinAbs, cos: cosNegative ? -cosAbs : cosAbs };
}
