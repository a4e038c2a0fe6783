// Fills a tensor with one value (zero-initialising accumulators, constant inputs).
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32,
  value: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<{{DTYPE}}>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // 2-D grid: large tensors exceed 65535 workgroups in x.
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) { return; }
  out[i] = {{DTYPE}}(params.value);
}
