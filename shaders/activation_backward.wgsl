// Backward of the pointwise activations (elementwise.wgsl) and of GEGLU (geglu.wgsl):
//   ACT silu | gelu | gelu_tanh | quick_gelu:  dx[i] = dy[i]·act′(x[i])
//   ACT geglu: h = [a, gate] per row of 2F, y = a·gelu(gate) (exact erf GELU), so
//              dh[:F] = dy·gelu(gate),  dh[F:] = dy·a·gelu′(gate)
// Derivatives, with σ the logistic function:
//   silu:       (x σ(x))′ = σ(x)·(1 + x·(1 − σ(x)))
//   gelu:       (x Φ(x))′ = Φ(x) + x φ(x)                      (Hendrycks & Gimpel 2016)
//   gelu_tanh:  x σ(2u), u = √(2/π)(x + 0.044715 x³):  σ(2u) + x σ(2u)(1 − σ(2u))·2u′
//   quick_gelu: x σ(1.702 x):  σ + 1.702 x σ (1 − σ)
// σ(t) and 1 − σ(t) = σ(−t) come from e = exp(−|t|) ≤ 1, so neither overflows nor cancels.
// f32 or f16 storage (all operands one dtype), f32 math; one element (a row position for geglu) per
// invocation.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32, // elements of dy
  half: u32,  // F: features per half-row (geglu only)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read> dy: array<{{DTYPE}}>;
@group(0) @binding(3) var<storage, read_write> dx: array<{{DTYPE}}>;

override WG: u32 = 256u;

// (σ(t), 1 − σ(t))
fn sigmoid2(t: f32) -> vec2<f32> {
  let e = exp(-abs(t));
  let q = 1.0 / (1.0 + e);
  return select(vec2<f32>(e * q, q), vec2<f32>(q, e * q), t >= 0.0);
}

// erfc(z) for z >= 0, Numerical Recipes' "erfcc" (fractional error < 1.2e-7), as geglu.wgsl: its
// error is relative to erfc, so Φ(x) = erfc(−x/√2)/2 stays accurate deep in the negative tail.
fn erfc_pos(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  var p = 0.17087277;
  p = -0.82215223 + t * p;
  p = 1.48851587 + t * p;
  p = -1.13520398 + t * p;
  p = 0.27886807 + t * p;
  p = -0.18628806 + t * p;
  p = 0.09678418 + t * p;
  p = 0.37409196 + t * p;
  p = 1.00002368 + t * p;
  return t * exp(-z * z - 1.26551223 + t * p);
}

// (gelu(v), gelu′(v)) = (v Φ(v), Φ(v) + v φ(v)), φ(v) = exp(−v²/2)/√(2π).
fn gelu2(v: f32) -> vec2<f32> {
  let c = 0.5 * erfc_pos(abs(v) * 0.70710678118654752);
  let cdf = select(1.0 - c, c, v < 0.0);
  let pdf = 0.39894228040143268 * exp(-0.5 * v * v);
  return vec2<f32>(v * cdf, cdf + v * pdf);
}

fn derivative(v: f32) -> f32 {
#if ACT == silu
  let s = sigmoid2(v);
  return s.x * (1.0 + v * s.y);
#elif ACT == gelu
  return gelu2(v).y;
#elif ACT == gelu_tanh
  let s = sigmoid2(1.59576912 * (v + 0.044715 * v * v * v)); // 2u
  return s.x + v * s.x * s.y * 1.59576912 * (1.0 + 0.134145 * v * v);
#elif ACT == quick_gelu
  let s = sigmoid2(1.702 * v);
  return s.x + 1.702 * v * s.x * s.y;
#else
  return 1.0;
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let g = f32(dy[i]);
#if ACT == geglu
  let row = i / params.half;
  let j = i - row * params.half;
  let base = row * 2u * params.half;
  let a = f32(x[base + j]);
  let ge = gelu2(f32(x[base + params.half + j]));
  dx[base + j] = {{DTYPE}}(g * ge.x);
  dx[base + params.half + j] = {{DTYPE}}(g * a * ge.y);
#else
  dx[i] = {{DTYPE}}(g * derivative(f32(x[i])));
#endif
}
