// Sum over contiguous segments: out[g] = scale * sum(x[start..end)). Row r of length `cols` is cut
// into `segs` segments of `seg_len`; segment g = r * segs + s is summed by a slice of `tpr`
// invocations (a power of two <= WG chosen from the segment length, so a workgroup holds WG / tpr
// segments and short rows do not leave most of it idle). segs = 1 is a last-axis reduction; longer
// rows, and a whole tensor as one row, take several passes over f32 partials (src/ops/reduce.ts),
// with no atomics. Each invocation accumulates a strided slice in f32, then a tree in workgroup
// memory adds the tpr partials (pairwise summation: the error bound grows with log2 of the count,
// not linearly; Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 4.2).
// Defines: IN_T/OUT_T (f32 | f16 storage), SERIAL (tpr = 1: one invocation per segment, no
// workgroup memory or barriers, which CPU drivers run far faster).
#param IN_T
#param OUT_T
#if F16
enable f16;
#endif

struct Params {
  groups: u32,
  segs: u32,
  cols: u32,
  seg_len: u32,
  tpr: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{IN_T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{OUT_T}}>;

// Must be a power of two (tree reduction).
override WG: u32 = 256u;
#if !SERIAL
var<workgroup> partial: array<f32, WG>;
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tpr = params.tpr;
  let lane = lid & (tpr - 1u);
  // 2-D grid: more than 65535 workgroups spill into y (grid1d). No early return before the barriers.
  let g = (wid.x + wid.y * nwg.x) * (WG / tpr) + lid / tpr;
  let valid = g < params.groups;
  let r = g / params.segs;
  let s = g - r * params.segs;
  let row = r * params.cols;
  let start = row + s * params.seg_len;
  let end = select(start, row + min(s * params.seg_len + params.seg_len, params.cols), valid);

  var acc = 0.0;
  for (var j = start + lane; j < end; j += tpr) {
    acc += f32(x[j]);
  }
#if SERIAL
  let total = acc;
#else
  partial[lid] = acc;
  workgroupBarrier();
  // tpr is uniform, so every invocation runs the same number of barriers.
  for (var h = tpr / 2u; h > 0u; h = h / 2u) {
    if (lane < h) {
      partial[lid] += partial[lid + h];
    }
    workgroupBarrier();
  }
  let total = partial[lid];
#endif
  if (valid && lane == 0u) {
    out[g] = {{OUT_T}}(total * params.scale);
  }
}
