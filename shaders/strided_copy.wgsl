// dst[dOff + r·dStride + c] (+)= alpha · src[sOff + r·sStride + c] for r < rows, c < cols.
// The autograd's data movement in one kernel: a row of a batch broadcast, one side of a concatenation
// along the last axis, a sum over a broadcast batch (ACCUMULATE), and f16 gradients folded into f32
// accumulators (SRC ≠ DST). Offsets are in elements and go in uniforms, so a slice needs no 256-byte
// aligned binding offset.
#param SRC
#param DST
#param ACCUMULATE
#if SRC == f16
enable f16;
#elif DST == f16
enable f16;
#endif

struct Params {
  rows: u32,
  cols: u32,
  src_offset: u32,
  src_stride: u32,
  dst_offset: u32,
  dst_stride: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<{{SRC}}>;
@group(0) @binding(2) var<storage, read_write> dst: array<{{DST}}>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols;
  let c = i - r * params.cols;
  let v = params.alpha * f32(src[params.src_offset + r * params.src_stride + c]);
  let d = params.dst_offset + r * params.dst_stride + c;
#if ACCUMULATE
  dst[d] = {{DST}}(f32(dst[d]) + v);
#else
  dst[d] = {{DST}}(v);
#endif
}
