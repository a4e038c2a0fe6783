// GEGLU (Shazeer 2020, "GLU Variants Improve Transformer"), as diffusers' GEGLU applies it after
// ff.net.0.proj: hidden, gate = h.chunk(2, -1); out = hidden * gelu(gate), with the exact erf GELU
// (torch GELU(approximate='none')). h is [rows, 2F], out is [rows, F].
//
// VEC == 4 moves four features per invocation (needs F % 4 == 0): the op is memory-bound, and vec4
// loads matter most for f16 storage. Math is f32 in registers either way.
#param DTYPE
#param VEC
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32, // rows * F / VEC
  half: u32,  // F / VEC: vectors per half-row
}

#if VEC == 4
alias T = vec4<{{DTYPE}}>;
#else
alias T = {{DTYPE}};
#endif

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> h: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

override WG: u32 = 256u;

// erfc(z) for z >= 0: the Chebyshev fit "erfcc" of Numerical Recipes in C, 2nd ed., section 6.2
// (Press et al. 1992), fractional error < 1.2e-7 everywhere (we measured 1.04e-7 in f64).
// Chosen over Abramowitz & Stegun 7.1.26 (absolute error 1.5e-7) because its error is relative to
// erfc: the GELU tail x * Phi(x) for x << 0 stays accurate in relative terms too, and in f32 the
// resulting erf has absolute error <= 4e-7 (emulated in f32 over [-6, 6]), inside the 1e-6 budget.
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

// gelu(x) = x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2. Taking Phi(-|x|) from erfc directly (not as
// 1 + erf) avoids the cancellation of 1 + erf(x) for negative x.
fn gelu_erf(x: f32) -> f32 {
  let c = 0.5 * erfc_pos(abs(x) * 0.70710678118654752);
  return x * select(1.0 - c, c, x < 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let row = i / params.half;
  let j = i - row * params.half;
  let base = row * 2u * params.half;
#if VEC == 4
  let hidden = vec4<f32>(h[base + j]);
  let gate = vec4<f32>(h[base + params.half + j]);
  let g = vec4<f32>(gelu_erf(gate.x), gelu_erf(gate.y), gelu_erf(gate.z), gelu_erf(gate.w));
  out[i] = T(hidden * g);
#else
  out[i] = T(f32(h[base + j]) * gelu_erf(f32(h[base + params.half + j])));
#endif
}
