// Sum over the middle axis of an [outer, len, inner] view, the step that reduceToShape
// (src/ops/backward/reduce-to-shape.ts) repeats to undo a broadcast whose reduced axes are not last
// ([B, T, C] → [1, T, C]: outer 1, len B, inner T·C). The axis is cut into `segs` segments of
// `seg_len`; out[(o·segs + s)·inner + j] sums segment s. One invocation per output with j fastest, so
// neighbouring invocations read neighbouring elements. segs > 1 (a long axis over few outputs) writes
// f32 partials that a second pass sums, for parallelism without atomics. f32 accumulation.
#param IN_T
#param OUT_T
#if F16
enable f16;
#endif

struct Params {
  count: u32, // outer · segs · inner
  len: u32,
  inner: u32,
  segs: u32,
  seg_len: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{IN_T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{OUT_T}}>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let j = i % params.inner;
  let os = i / params.inner;
  let s = os % params.segs;
  let o = os / params.segs;
  let r0 = s * params.seg_len;
  let r1 = min(r0 + params.seg_len, params.len);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) {
    acc += f32(x[(o * params.len + r) * params.inner + j]);
  }
  out[i] = {{OUT_T}}(acc);
}
