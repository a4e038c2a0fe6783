// Weight gradient of conv2d, dW[co,ci,ky,kx] = Σ_{n,oy,ox} dY[n,co,oy,ox] · x[n,ci,oy·s−pad+ky, ox·s−pad+kx]
// (zero outside x). One invocation per dW element with a plain loop: the UNet's base weights are
// frozen, so this serves only the per-op golden checks on small shapes, where clarity beats speed.
// f32 accumulation whatever the storage.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32, // cout·cin·kh·kw
  batch: u32,
  cin: u32, h: u32, w: u32,
  cout: u32, hout: u32, wout: u32,
  stride: u32, pad: u32, kh: u32, kw: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read> dy: array<{{DTYPE}}>;
@group(0) @binding(3) var<storage, read_write> dw: array<{{DTYPE}}>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let kx = i32(i % params.kw);
  let ky = i32((i / params.kw) % params.kh);
  let ci = (i / (params.kw * params.kh)) % params.cin;
  let co = i / (params.kw * params.kh * params.cin);
  let s = i32(params.stride);
  let pad = i32(params.pad);
  var acc = 0.0;
  for (var n = 0u; n < params.batch; n++) {
    let xbase = (n * params.cin + ci) * params.h * params.w;
    let ybase = (n * params.cout + co) * params.hout * params.wout;
    for (var oy = 0u; oy < params.hout; oy++) {
      let iy = i32(oy) * s - pad + ky;
      if (iy < 0 || iy >= i32(params.h)) { continue; }
      for (var ox = 0u; ox < params.wout; ox++) {
        let ix = i32(ox) * s - pad + kx;
        if (ix < 0 || ix >= i32(params.w)) { continue; }
        acc += f32(dy[ybase + oy * params.wout + ox]) * f32(x[xbase + u32(iy) * params.w + u32(ix)]);
      }
    }
  }
  dw[i] = {{DTYPE}}(acc);
}
