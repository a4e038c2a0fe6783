// LayerNorm over the last axis (torch.nn.LayerNorm(D), affine): one workgroup per row,
//   y = (x − mean)·rsqrt(var + eps)·γ + β, biased variance, f32 statistics.
// Stable in one read of the row: each thread sums x − shift and (x − shift)² (shift = the row's first
// element, so the sums carry no large mean), turns them into (count, mean, M2), and the threads' results
// are merged pairwise (Chan, Golub & LeVeque 1979): δ = mb − ma, m = ma + δ·nb/n, M2 = M2a + M2b + δ²·na·nb/n.
// SUBGROUPS: the merge is a butterfly of subgroup shuffles, then one barrier and a scan of the subgroup
// leaders' results (as groupnorm.wgsl's reduce, which says why it is deterministic).
// Entry point `rows`: one invocation per whole row, for rows too short to share (d ≤ LN_SHORT_ROW in
// ops/norm.ts): no workgroup memory and no barrier, where a workgroup per 32-wide row left half its
// threads idle and paid two barriers per row (on SwiftShader 22 ms for 512 rows of 32).
#param DTYPE
#if DTYPE == f16
enable f16;
#endif
#if SUBGROUPS
enable subgroups;
#endif

struct Params {
  d: u32,     // row length
  rows: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read> gamma: array<{{DTYPE}}>;
@group(0) @binding(3) var<storage, read> beta: array<{{DTYPE}}>;
@group(0) @binding(4) var<storage, read_write> out: array<{{DTYPE}}>;

override WG: u32 = 64u; // a power of two, at least 8

var<workgroup> red: array<vec3<f32>, WG>;
#if !SUBGROUPS
var<workgroup> red8: array<vec3<f32>, 8>;
#endif

fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  if (n == 0.0) { return a; }
  let dm = b.y - a.y;
  let f = b.x / n;
  return vec3<f32>(n, a.y + dm * f, a.z + b.z + dm * dm * a.x * f);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
#if SUBGROUPS
        @builtin(subgroup_size) sg_size: u32,
#endif
        @builtin(num_workgroups) nwg: vec3<u32>) {
  // Rows spill from x into y past 65535 workgroups (batch·tokens can exceed it).
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
#if SUBGROUPS
  var r = vec3<f32>(n, m, max(q - s * m, 0.0));
  for (var o = 1u; o < min(sg_size, WG); o = o << 1u) {
    r = merge(r, subgroupShuffleXor(r, o));
  }
  red[lid] = select(vec3<f32>(0.0), r, subgroupMin(lid) == lid);
  workgroupBarrier();
  r = red[0];
  for (var j = 1u; j < WG; j++) { r = merge(r, red[j]); }
#else
  // Two barriers instead of a log2(WG)-deep tree (barriers are what CPU adapters pay most for):
  // eight invocations merge WG/8 entries each, then every invocation merges those eight itself.
  red[lid] = vec3<f32>(n, m, max(q - s * m, 0.0));
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
#endif
  // (x − shift) − mean′ rather than x − (shift + mean′): x − shift is exact (Sterbenz), so a large
  // common offset in the row costs no precision.
  let rstd = inverseSqrt(r.z / r.x + params.eps);
  for (var i = lid; i < params.d; i += WG) {
    let y = (f32(x[base + i]) - shift - r.y) * rstd * f32(gamma[i]) + f32(beta[i]);
    out[base + i] = {{DTYPE}}(y);
  }
}

// One invocation per row: the same shifted sums over the whole row (one thread's share above, with
// the thread owning every element), so mean and M2 are those of a single Chan term.
@compute @workgroup_size(WG)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= params.rows) { return; }
  let base = row * params.d;
  let shift = f32(x[base]);
  var s = 0.0;
  var q = 0.0;
  for (var i = 0u; i < params.d; i++) {
    let v = f32(x[base + i]) - shift;
    s += v;
    q += v * v;
  }
  let n = f32(params.d);
  let m = s / n;
  let rstd = inverseSqrt(max(q - s * m, 0.0) / n + params.eps);
  for (var i = 0u; i < params.d; i++) {
    let y = (f32(x[base + i]) - shift - m) * rstd * f32(gamma[i]) + f32(beta[i]);
    out[base + i] = {{DTYPE}}(y);
  }
}
