// Backward of nearest upsampling (shaders/upsample.wgsl): dX[plane, i, j] = Σ dY[plane, oy, ox] over
// every output pixel whose nearest source is (i, j), for any output size. The forward's index map
// src(o) = min(floor(f32(o)·scale), in − 1) is monotone, so the outputs of source i are one
// contiguous run [first(i), first(i + 1)); one invocation per input pixel sums its rectangle (a
// gather, so no atomics and a deterministic order). first() starts from the exact-arithmetic guess
// floor(i·out/in) and steps until the forward's own f32 formula agrees, so the runs match the forward
// (and torch) bit for bit even where f32 rounding of `scale` moves a boundary.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32, // planes · in_h · in_w
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  scale_h: f32, // f32(in / out), computed on the CPU exactly as for the forward
  scale_w: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read_write> dx: array<{{DTYPE}}>;

override WG: u32 = 256u;

fn source(o: u32, scale: f32, n: u32) -> u32 {
  return min(u32(floor(f32(o) * scale)), n - 1u);
}

// The first output index whose source is ≥ i (out_n when there is none).
fn first(i: u32, in_n: u32, out_n: u32, scale: f32) -> u32 {
  var o = min(i * out_n / in_n, out_n);
  loop {
    if (o == 0u || source(o - 1u, scale, in_n) < i) { break; }
    o -= 1u;
  }
  loop {
    if (o >= out_n || source(o, scale, in_n) >= i) { break; }
    o += 1u;
  }
  return o;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (idx >= params.count) { return; }
  let j = idx % params.in_w;
  let rest = idx / params.in_w;
  let i = rest % params.in_h;
  let plane = rest / params.in_h;
  let y0 = first(i, params.in_h, params.out_h, params.scale_h);
  let y1 = first(i + 1u, params.in_h, params.out_h, params.scale_h);
  let x0 = first(j, params.in_w, params.out_w, params.scale_w);
  let x1 = first(j + 1u, params.in_w, params.out_w, params.scale_w);
  let base = plane * params.out_h * params.out_w;
  var acc = 0.0;
  for (var oy = y0; oy < y1; oy++) {
    for (var ox = x0; ox < x1; ox++) {
      acc += f32(dy[base + oy * params.out_w + ox]);
    }
  }
  dx[idx] = {{DTYPE}}(acc);
}
