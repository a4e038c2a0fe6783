// Softmax over the last axis: y = exp(s x - m) / sum exp(s x - m), m = max s x. A row is handled by a
// slice of `tpr` invocations (a power of two <= WG, chosen from the row length), so a workgroup holds
// WG / tpr rows: one for long rows, many for short ones (77-token cross-attention rows) instead of a
// 256-wide workgroup idling on 77 elements. The first sweep keeps a running (max, sum) per invocation
// and rescales the sum when the max grows (online normaliser, Milakov & Gimelshein 2018,
// arXiv:1805.02867, algorithm 3), so the row is read twice, not three times; a tree in workgroup
// memory then merges the pairs. Numerically stable for any row.
// Defines: IN_T/OUT_T (f32 | f16 storage, f32 math), INPLACE (y overwrites x: each invocation reads
// and writes only its own elements, so this is safe), SERIAL (tpr = 1: one invocation per row, no
// workgroup memory or barriers, which CPU drivers run far faster).
#param IN_T
#param OUT_T
#if F16
enable f16;
#endif

struct Params {
  rows: u32,
  cols: u32,
  tpr: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
#if INPLACE
@group(0) @binding(1) var<storage, read_write> x: array<{{IN_T}}>;
#else
@group(0) @binding(1) var<storage, read> x: array<{{IN_T}}>;
@group(0) @binding(2) var<storage, read_write> y: array<{{OUT_T}}>;
#endif

// Must be a power of two (tree reduction).
override WG: u32 = 256u;
#if !SERIAL
var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;
#endif

// The lowest finite f32: a start value for the max that keeps exp(m - v) finite (0, not NaN).
const LOWEST: f32 = -0x1.fffffep+127f;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tpr = params.tpr;
  let lane = lid & (tpr - 1u);
  let first = lid - lane; // this row's slot in the workgroup arrays
  // 2-D grid: more than 65535 workgroups spill into y (grid1d). No early return: every invocation
  // must reach the barriers, so a row past the end just has no columns.
  let row = (wid.x + wid.y * nwg.x) * (WG / tpr) + lid / tpr;
  let cols = select(0u, params.cols, row < params.rows);
  let base = row * params.cols;

  var m = LOWEST;
  var s = 0.0;
  for (var j = lane; j < cols; j += tpr) {
    let v = f32(x[base + j]) * params.scale;
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
#if SERIAL
  let mx = m;
  let inv = 1.0 / s;
#else
  red_m[lid] = m;
  red_s[lid] = s;
  workgroupBarrier();
  // tpr is uniform, so every invocation runs the same number of barriers.
  for (var h = tpr / 2u; h > 0u; h = h / 2u) {
    if (lane < h) {
      let m1 = red_m[lid];
      let m2 = red_m[lid + h];
      let mm = max(m1, m2);
      red_s[lid] = red_s[lid] * exp(m1 - mm) + red_s[lid + h] * exp(m2 - mm);
      red_m[lid] = mm;
    }
    workgroupBarrier();
  }
  let mx = red_m[first];
  let inv = 1.0 / red_s[first];
#endif

  for (var j = lane; j < cols; j += tpr) {
    let e = exp(f32(x[base + j]) * params.scale - mx) * inv;
#if INPLACE
    x[base + j] = {{IN_T}}(e);
#else
    y[base + j] = {{OUT_T}}(e);
#endif
  }
}
