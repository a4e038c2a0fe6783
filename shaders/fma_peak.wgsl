// Peak-FLOP microbenchmark (bench only): every thread runs CHAINS independent vec4 FMA chains for
// `iters` rounds, enough independent work per thread to hide FMA latency, no memory traffic in the loop.
// FLOPs = threads × iters × CHAINS × 4 lanes × 2 (an FMA is a multiply and an add). The sum is
// written out so that the compiler cannot drop the loop.
struct Params {
  iters: u32,
  seed: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<f32>;

const CHAINS: u32 = 8u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = params.seed + f32(gid.x) * 1e-7;
  // a contraction (|m| < 1) with a fixed point, so values stay finite however long the loop runs
  let m = vec4<f32>(0.999, 0.998, 0.997, 0.996);
  let c = vec4<f32>(1e-3, 2e-3, 3e-3, 4e-3);
  var a0 = vec4<f32>(s); var a1 = a0 + 0.1; var a2 = a0 + 0.2; var a3 = a0 + 0.3;
  var a4 = a0 + 0.4; var a5 = a0 + 0.5; var a6 = a0 + 0.6; var a7 = a0 + 0.7;
  for (var i = 0u; i < params.iters; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  let t = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  sink[gid.x] = t.x + t.y + t.z + t.w;
}
