// GroupNorm (+ fused SiLU) backward over NCHW, the reverse of groupnorm.wgsl. Per (n, group) with
// x̂ = (x − μ)·r, r = rsqrt(var + eps), z = x̂·γ[c] + β[c], y = z or silu(z):
//   dz = dY, or with SiLU dz = dY·(s + z·s·(1 − s)), s = σ(z)     (d silu/dz; z is recomputed)
//   g  = dz·γ[c];  dx = r·(g − mean(g) − x̂·mean(g·x̂))           (means over the group's Cg·H·W)
//   dγ[c] = Σ_{n,hw} dz·x̂,  dβ[c] = Σ_{n,hw} dz
// The statistics come from the forward's `stats` entry (per-chunk partials); then STAGE picks:
//   merge:  one workgroup per n·G merges the chunk partials into (shift, mean − shift, r)
//   sums:   one workgroup per (chunk, n·G) writes its chunk's (Σg, Σg·x̂)
//   apply:  one workgroup per (chunk, n·G) adds its group's partial sums and writes dx of its chunk
//   params: one workgroup per channel sums dγ, dβ over batch and space (f32)
// so one large group (SDXL: 10 ch × 128² = 163840 elements) spreads over many workgroups, as in the
// forward. Every stage reads β, even without SiLU, so the binding list is the same in every variant.
#param DTYPE
#param STAGE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  hw: u32,       // spatial size H·W
  cg: u32,       // channels per group
  gsize: u32,    // elements per group, cg·hw
  groups: u32,
  chunk: u32,    // elements per workgroup chunk
  chunks: u32,   // chunks per group
  eps: f32,
  batch: u32,
  channels: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
#if STAGE == merge
@group(0) @binding(2) var<storage, read> partial: array<vec4<f32>>; // (count, mean − shift, M2, −)
@group(0) @binding(3) var<storage, read_write> gstat: array<vec4<f32>>; // (shift, mean − shift, r, −)
#else
@group(0) @binding(2) var<storage, read> dy: array<{{DTYPE}}>;
@group(0) @binding(3) var<storage, read> gamma: array<{{DTYPE}}>;
@group(0) @binding(4) var<storage, read> beta: array<{{DTYPE}}>;
@group(0) @binding(5) var<storage, read> gstat: array<vec4<f32>>;
#endif
#if STAGE == sums
@group(0) @binding(6) var<storage, read_write> sums: array<vec2<f32>>;
#elif STAGE == apply
@group(0) @binding(6) var<storage, read> sums: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read_write> dx: array<{{DTYPE}}>;
#elif STAGE == params
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> dbeta: array<f32>;
#endif

override WG: u32 = 64u; // a power of two, at least 8

var<workgroup> red: array<vec3<f32>, WG>;
var<workgroup> red8: array<vec3<f32>, 8>;

// Chan, Golub & LeVeque's pairwise merge of (count, mean, M2), as in groupnorm.wgsl.
fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  if (n == 0.0) { return a; }
  let d = b.y - a.y;
  let f = b.x / n;
  return vec3<f32>(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}

// Workgroup reductions with two barriers instead of a log2(WG)-deep tree (barriers are what CPU
// adapters pay most for): eight invocations combine WG/8 entries each, then every invocation combines
// those eight. Each entry point calls one of them once.
fn reduce_stats(lid: u32, v: vec3<f32>) -> vec3<f32> {
  red[lid] = v;
  workgroupBarrier();
  if (lid < 8u) {
    let per = WG / 8u;
    var a = red[lid * per];
    for (var j = 1u; j < per; j++) { a = merge(a, red[lid * per + j]); }
    red8[lid] = a;
  }
  workgroupBarrier();
  var r = red8[0];
  for (var j = 1u; j < 8u; j++) { r = merge(r, red8[j]); }
  return r;
}

fn reduce_sums(lid: u32, v: vec2<f32>) -> vec2<f32> {
  red[lid] = vec3<f32>(v, 0.0);
  workgroupBarrier();
  if (lid < 8u) {
    let per = WG / 8u;
    var a = vec3<f32>(0.0);
    for (var j = 0u; j < per; j++) { a += red[lid * per + j]; }
    red8[lid] = a;
  }
  workgroupBarrier();
  var r = vec3<f32>(0.0);
  for (var j = 0u; j < 8u; j++) { r += red8[j]; }
  return r.xy;
}

fn bounds(chunkIndex: u32, ng: u32) -> vec2<u32> {
  let start = ng * params.gsize + chunkIndex * params.chunk;
  return vec2<u32>(start, min(start + params.chunk, (ng + 1u) * params.gsize));
}

#if STAGE == merge
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let ng = wg.x;
  var acc = vec3<f32>(0.0);
  for (var j = lid; j < params.chunks; j += WG) { acc = merge(acc, partial[ng * params.chunks + j].xyz); }
  let st = reduce_stats(lid, acc);
  if (lid == 0u) {
    gstat[ng] = vec4<f32>(f32(x[ng * params.gsize]), st.y, inverseSqrt(st.z / st.x + params.eps), 0.0);
  }
}
#else
// (dz, x̂) of element i in channel c. (x − shift) − mean′ as in the forward: x − shift is exact
// (Sterbenz), so a large common offset costs no precision.
fn grad_z(i: u32, c: u32, st: vec4<f32>) -> vec2<f32> {
  let xh = (f32(x[i]) - st.x - st.y) * st.z;
  let z = xh * f32(gamma[c]) + f32(beta[c]);
  var dz = f32(dy[i]);
#if SILU
  // s = σ(z) and 1 − s = σ(−z), both from e = exp(−|z|) ≤ 1: no overflow, no cancellation in 1 − s.
  let e = exp(-abs(z));
  let q = 1.0 / (1.0 + e);
  let s = select(e * q, q, z >= 0.0);
  dz = dz * s * (1.0 + z * select(q, e * q, z >= 0.0));
#endif
  return vec2<f32>(dz, xh);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
#if STAGE == params
  let c = wg.x;
  let g = c / params.cg;
  var acc = vec2<f32>(0.0);
  for (var n = 0u; n < params.batch; n++) {
    let st = gstat[n * params.groups + g];
    let base = (n * params.channels + c) * params.hw;
    for (var i = lid; i < params.hw; i += WG) {
      let d = grad_z(base + i, c, st);
      acc += vec2<f32>(d.x * d.y, d.x);
    }
  }
  let r = reduce_sums(lid, acc);
  if (lid == 0u) {
    dgamma[c] = r.x;
    dbeta[c] = r.y;
  }
#else
  let ng = wg.y;
  let st = gstat[ng];
  let c0 = (ng % params.groups) * params.cg;
  let b = bounds(wg.x, ng);
#if STAGE == sums
  var acc = vec2<f32>(0.0);
  for (var i = b.x + lid; i < b.y; i += WG) {
    let c = c0 + (i - ng * params.gsize) / params.hw;
    let d = grad_z(i, c, st);
    let g = d.x * f32(gamma[c]);
    acc += vec2<f32>(g, g * d.y);
  }
  let r = reduce_sums(lid, acc);
  if (lid == 0u) { sums[ng * params.chunks + wg.x] = r; }
#else
  var acc = vec2<f32>(0.0);
  for (var j = lid; j < params.chunks; j += WG) { acc += sums[ng * params.chunks + j]; }
  let m = reduce_sums(lid, acc) / f32(params.gsize); // (mean g, mean g·x̂)
  for (var i = b.x + lid; i < b.y; i += WG) {
    let c = c0 + (i - ng * params.gsize) / params.hw;
    let d = grad_z(i, c, st);
    dx[i] = {{DTYPE}}(st.z * (d.x * f32(gamma[c]) - m.x - d.y * m.y));
  }
#endif
#endif
}
#endif
