// LayerNorm backward over the last axis, the reverse of layernorm.wgsl (torch.nn.LayerNorm(D), affine).
// Per row, x̂ = (x − μ)·r, r = rsqrt(var + eps), g = dY·γ:
//   dx = r·(g − mean(g) − x̂·mean(g·x̂));   dγ = Σ_rows dY·x̂,  dβ = Σ_rows dY
// STAGE rows: one workgroup per row recomputes the row's statistics (stable shifted sums merged with
// Chan, Golub & LeVeque's update, as the forward), reduces Σg and Σg·x̂, and writes dx; with PARAMS it
// also stores the row's (shift, mean − shift, r) for the params stage.
// STAGE params: one invocation per column sums dγ and dβ over the rows (f32), in row order.
#param DTYPE
#param STAGE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  d: u32,     // row length
  rows: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read> dy: array<{{DTYPE}}>;
#if STAGE == rows
@group(0) @binding(3) var<storage, read> gamma: array<{{DTYPE}}>;
@group(0) @binding(4) var<storage, read_write> dx: array<{{DTYPE}}>;
#if PARAMS
@group(0) @binding(5) var<storage, read_write> rowstat: array<vec4<f32>>;
#endif
#else
@group(0) @binding(3) var<storage, read> rowstat: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbeta: array<f32>;
#endif

override WG: u32 = 64u; // a power of two, at least 8

#if STAGE == rows
var<workgroup> red: array<vec3<f32>, WG>;
var<workgroup> red8: array<vec3<f32>, 8>;
var<workgroup> sum: array<vec2<f32>, WG>;
var<workgroup> sum8: array<vec2<f32>, 8>;

fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  if (n == 0.0) { return a; }
  let dm = b.y - a.y;
  let f = b.x / n;
  return vec3<f32>(n, a.y + dm * f, a.z + b.z + dm * dm * a.x * f);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  // Rows spill from x into y past 65535 workgroups; row is uniform, so the early return is too.
  let row = wg.x + wg.y * nwg.x;
  if (row >= params.rows) { return; }
  let base = row * params.d;
  let shift = f32(x[base]);
  var s = 0.0;
  var q = 0.0;
  var n = 0.0;
  for (var i = lid; i < params.d; i += WG) {
    let v = f32(x[base + i]) - shift;
    s += v;
    q += v * v;
    n += 1.0;
  }
  let m = select(0.0, s / n, n > 0.0);
  // Two barriers per reduction instead of a log2(WG)-deep tree (barriers are what CPU adapters pay
  // most for): eight invocations combine WG/8 entries each, then every invocation combines those eight.
  red[lid] = vec3<f32>(n, m, max(q - s * m, 0.0));
  workgroupBarrier();
  if (lid < 8u) {
    let per = WG / 8u;
    var a = red[lid * per];
    for (var j = 1u; j < per; j++) { a = merge(a, red[lid * per + j]); }
    red8[lid] = a;
  }
  workgroupBarrier();
  var st = red8[0];
  for (var j = 1u; j < 8u; j++) { st = merge(st, red8[j]); }
  let mean = st.y; // relative to shift: (x − shift) − mean is exact to the last bit for offset data
  let r = inverseSqrt(st.z / st.x + params.eps);

  var acc = vec2<f32>(0.0);
  for (var i = lid; i < params.d; i += WG) {
    let xh = (f32(x[base + i]) - shift - mean) * r;
    let g = f32(dy[base + i]) * f32(gamma[i]);
    acc += vec2<f32>(g, g * xh);
  }
  sum[lid] = acc;
  workgroupBarrier();
  if (lid < 8u) {
    let per = WG / 8u;
    var a = vec2<f32>(0.0);
    for (var j = 0u; j < per; j++) { a += sum[lid * per + j]; }
    sum8[lid] = a;
  }
  workgroupBarrier();
  var tot = vec2<f32>(0.0);
  for (var j = 0u; j < 8u; j++) { tot += sum8[j]; }
  let mg = tot / f32(params.d); // (mean g, mean g·x̂)

  for (var i = lid; i < params.d; i += WG) {
    let xh = (f32(x[base + i]) - shift - mean) * r;
    let g = f32(dy[base + i]) * f32(gamma[i]);
    dx[base + i] = {{DTYPE}}(r * (g - mg.x - xh * mg.y));
  }
#if PARAMS
  if (lid == 0u) { rowstat[row] = vec4<f32>(shift, mean, r, 0.0); }
#endif
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let col = gid.x + gid.y * nwg.x * WG; // 2-D grid (src/ops/grid.ts)
  if (col >= params.d) { return; }
  var acc = vec2<f32>(0.0);
  for (var row = 0u; row < params.rows; row++) {
    let st = rowstat[row];
    let i = row * params.d + col;
    let g = f32(dy[i]);
    acc += vec2<f32>(g * (f32(x[i]) - st.x - st.y) * st.z, g);
  }
  dgamma[col] = acc.x;
  dbeta[col] = acc.y;
}
#endif
