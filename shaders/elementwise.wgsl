// Elementwise kernels: out[i] = act(alpha * (a[i] OP b[i]) + beta), one element per invocation.
// Structural defines: OP (none | add | sub | mul), ACT (none | silu | gelu | gelu_tanh | quick_gelu | erf),
// BCAST (numpy broadcasting through per-operand strides), INPLACE (the result overwrites `a`),
// A_T/B_T/O_T (f32 | f16 storage; math is always f32). Shapes and strides are uniforms.
#param A_T
#param B_T
#param O_T
#param OUT_BINDING
#if F16
enable f16;
#endif

// Up to 8 collapsed output dims, innermost first (dim d lives in *_lo[d] for d < 4, else *_hi[d - 4]).
// A broadcast operand has stride 0 along the dims it repeats over.
struct Params {
  count: u32,
  ndim: u32,
  alpha: f32,
  beta: f32,
  shape_lo: vec4<u32>,
  shape_hi: vec4<u32>,
  a_stride_lo: vec4<u32>,
  a_stride_hi: vec4<u32>,
  b_stride_lo: vec4<u32>,
  b_stride_hi: vec4<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
#if INPLACE
@group(0) @binding(1) var<storage, read_write> a: array<{{A_T}}>;
#else
@group(0) @binding(1) var<storage, read> a: array<{{A_T}}>;
#endif
#if OP != none
@group(0) @binding(2) var<storage, read> b: array<{{B_T}}>;
#endif
#if !INPLACE
@group(0) @binding({{OUT_BINDING}}) var<storage, read_write> out: array<{{O_T}}>;
#endif

override WG: u32 = 256u;

// e^x to ~2 ulp without the driver's exp (SwiftShader's is only ~1e-6 relative): Cody-Waite reduction
// x = n ln2 + r, |r| <= ln2/2, with ln2 split so n*LN2_HI is exact; e^r = 1 + r + r^2 P(r), P a
// degree-4 Chebyshev fit of (e^r - 1 - r)/r^2; 2^n is built from its exponent bits (exact).
fn exp_acc(x_in: f32) -> f32 {
  let x = clamp(x_in, -87.3, 88.3);
  let n = round(x * 1.44269502);
  let r = (x - n * 0.693115234375) - n * 3.19461833e-5;
  let p = (((0.00139269268 * r + 0.00836377405) * r + 0.0416665487) * r + 0.166665733) * r + 0.5;
  let two_n = bitcast<f32>(u32(i32(n) + 127) << 23u);
  return ((1.0 + r) + (r * r) * p) * two_n;
}

// 1 / (1 + e^-t) without overflow: only e^-|t| <= 1 is formed.
fn sigmoid(t: f32) -> f32 {
  let e = exp_acc(-abs(t));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, t >= 0.0);
}

// erf to ~1.2 ulp (max abs error 7e-8 in f32; the approximations themselves are within 1e-8), with no
// transcendental builtins. Chebyshev fits, re-expanded as polynomials in (v - centre):
//   |x| < 1:     erf(x) = x + x * P(x^2 - 0.5)     (P ~ erf(x)/x - 1, so its rounding is scaled down)
//   1 <= |x| < 2.25: erf = 1 - Q(|x| - 1.625);   2.25 <= |x| < 4: erf = 1 - R(|x| - 3.125)
//   |x| >= 4:    erf = 1 (erfc(4) = 1.5e-8 is below half an ulp of 1)
fn erf_acc(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 1.0) {
    let y = ax * ax - 0.5;
    var p = 1.05893832e-6;
    p = p * y - 9.67358756e-6; p = p * y + 7.82955030e-5; p = p * y - 5.61178371e-4;
    p = p * y + 3.48027446e-3; p = p * y - 1.82838850e-2; p = p * y + 7.94099867e-2;
    p = p * y - 2.81072170e-1; p = p * y - 3.45312618e-2;
    return x + x * p;
  }
  var q: f32;
  if (ax < 2.25) {
    let y = ax - 1.625;
    q = 2.68997392e-4;
    q = q * y - 1.27363158e-3; q = q * y + 6.09575247e-4; q = q * y + 6.13052724e-3;
    q = q * y - 1.44203566e-2; q = q * y + 2.14412087e-3; q = q * y + 4.97192480e-2;
    q = q * y - 1.14841260e-1; q = q * y + 1.30767420e-1; q = q * y - 8.04722458e-2;
    q = q * y + 2.15562675e-2;
  } else if (ax < 4.0) {
    let y = ax - 3.125;
    q = -1.25758061e-5;
    q = q * y + 9.78373937e-5; q = q * y - 2.75224476e-4; q = q * y + 4.62541328e-4;
    q = q * y - 5.74558100e-4; q = q * y + 5.54630242e-4; q = q * y - 4.00250312e-4;
    q = q * y + 2.02658921e-4; q = q * y - 6.47551497e-5; q = q * y + 9.89230557e-6;
  } else {
    q = 0.0;
  }
  return select(q - 1.0, 1.0 - q, x >= 0.0);
}

fn activate(v: f32) -> f32 {
#if ACT == silu
  return v * sigmoid(v);
#elif ACT == gelu
  return 0.5 * v * (1.0 + erf_acc(v * 0.707106781));
#elif ACT == gelu_tanh
  // 0.5 v (1 + tanh(u)) = v * sigmoid(2u), u = sqrt(2/pi) (v + 0.044715 v^3) (Hendrycks & Gimpel 2016)
  return v * sigmoid(1.59576912 * (v + 0.044715 * v * v * v));
#elif ACT == quick_gelu
  return v * sigmoid(1.702 * v);
#elif ACT == erf
  return erf_acc(v);
#else
  return v;
#endif
}

// Flat output index -> element offsets of a and b (x = a, y = b).
fn operand_offsets(flat: u32) -> vec2<u32> {
  var rem = flat;
  var off = vec2<u32>(0u, 0u);
  for (var d = 0u; d < params.ndim; d++) {
    let hi = d >= 4u;
    let k = d & 3u;
    let n = select(params.shape_lo[k], params.shape_hi[k], hi);
    let c = rem % n;
    rem = rem / n;
    off += c * vec2<u32>(select(params.a_stride_lo[k], params.a_stride_hi[k], hi),
                         select(params.b_stride_lo[k], params.b_stride_hi[k], hi));
  }
  return off;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // 2-D grid: large tensors exceed 65535 workgroups in x (src/ops/grid.ts).
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) { return; }
#if BCAST
  let off = operand_offsets(i);
#else
  let off = vec2<u32>(i, i);
#endif
  var v = f32(a[off.x]);
#if OP == add
  v = v + f32(b[off.y]);
#elif OP == sub
  v = v - f32(b[off.y]);
#elif OP == mul
  v = v * f32(b[off.y]);
#endif
  let r = activate(v * params.alpha + params.beta);
#if INPLACE
  a[i] = {{A_T}}(r);
#else
  out[i] = {{O_T}}(r);
#endif
}
