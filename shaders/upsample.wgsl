// Nearest-neighbour upsampling of NCHW planes, exactly as PyTorch's legacy 'nearest'
// (aten/src/ATen/native/UpSample.h, nearest_idx): src = min(floor(f32(dst) * scale), in - 1), where
// scale = f32(in / out) is computed on the CPU (WGSL division is not correctly rounded, and the index
// must match torch bit for bit). scale = 0.5 gives diffusers Upsample2D's 2x; any other output size
// (output_size=(7, 10) from 4x5, 13x19 from 7x10) takes the same path.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32, // planes * out_h * out_w
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  scale_h: f32,
  scale_w: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{DTYPE}}>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let ox = i % params.out_w;
  let rest = i / params.out_w;
  let oy = rest % params.out_h;
  let plane = rest / params.out_h;
  // f32 products are correctly rounded in WGSL, so floor() sees the same value as torch's floorf.
  let sy = min(u32(floor(f32(oy) * params.scale_h)), params.in_h - 1u);
  let sx = min(u32(floor(f32(ox) * params.scale_w)), params.in_w - 1u);
  out[i] = x[(plane * params.in_h + sy) * params.in_w + sx];
}
