// One input of a concatenation: torch.cat(inputs, dim=axis) seen as [outer, len * inner] blocks.
// Each input is copied by one dispatch into its column range [out_offset, out_offset + in_row) of
// every output row, so any number of inputs with different sizes along the axis (UNet skip
// connections cat([h, skip], dim=1) with different channel counts) costs one kernel.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32,      // outer * in_row
  in_row: u32,     // this input's len(axis) * inner
  out_row: u32,    // the output's len(axis) * inner
  out_offset: u32, // this input's start within an output row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{DTYPE}}>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let o = i / params.in_row;
  let j = i - o * params.in_row;
  out[o * params.out_row + params.out_offset + j] = x[i];
}
