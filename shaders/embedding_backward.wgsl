// Row gather-sum, the backward of a row gather (embedding.wgsl, and picking pooled rows):
//   out[r, c] = Σ_{k = start[r]}^{start[r+1] − 1} src[list[k], c]
// `index` holds the CSR form of "which source rows feed output row r", built on the CPU per call:
// index[0..rows] are the starts (absolute positions in `index`), the source row numbers follow them.
// A scatter-add would need float atomics (not in WGSL) or a nondeterministic order; gathering per
// output element sums each row's sources in ascending order, so results are bit-reproducible.
// One invocation per (row, channel): consecutive invocations read consecutive channels of a source row.
#param IN_T
#param OUT_T
#if F16
enable f16;
#endif

struct Params {
  count: u32, // rows · dim
  dim: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> index: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<{{IN_T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{OUT_T}}>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let r = i / params.dim;
  let c = i - r * params.dim;
  var acc = 0.0;
  for (var k = index[r]; k < index[r + 1u]; k++) {
    acc += f32(src[index[k] * params.dim + c]);
  }
  out[i] = {{OUT_T}}(acc);
}
