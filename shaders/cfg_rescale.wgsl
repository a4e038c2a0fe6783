// Classifier-free guidance with guidance rescale (src/ops/cfg-rescale.ts), for one sample in one
// workgroup: guided = u + g·(c − u) (diffusers: noise_pred_uncond + g·(text − uncond)), then diffusers'
// rescale_noise_cfg (Lin et al. 2024, §3.4; pipeline_stable_diffusion_xl.py):
//   out = φ·guided·std(c)/std(guided) + (1 − φ)·guided,  std over every value of the sample.
// torch's std is unbiased (n − 1), which cancels in the ratio. Two passes over the data (means, then
// centred sums of squares) keep the f32 variance free of the E[x²] − E[x]² cancellation. One workgroup:
// the reduction is over one latent (65 536 values at SDXL 1024²), tiny next to a UNet step, and needs no
// second dispatch or atomics to combine partial sums.
#param P_T
#if F16
enable f16;
#endif

struct Params {
  // values per prediction row; the cond row starts at n
  n: u32,
  guidance: f32,
  phi: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pred: array<{{P_T}}>;
@group(0) @binding(2) var<storage, read_write> guided: array<f32>;

override WG: u32 = 256u; // a power of two

var<workgroup> red: array<vec2<f32>, WG>;

fn cfg(i: u32) -> vec2<f32> {
  let u = f32(pred[i]);
  let c = f32(pred[params.n + i]);
  return vec2<f32>(c, u + params.guidance * (c - u));
}

// Tree sum of every invocation's pair, returned to all of them.
fn sum_all(lid: u32, v: vec2<f32>) -> vec2<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let n = params.n;
  var acc = vec2<f32>(0.0);
  for (var i = lid; i < n; i += WG) { acc += cfg(i); }
  let mean = sum_all(lid, acc) / f32(n);
  var sq = vec2<f32>(0.0);
  for (var i = lid; i < n; i += WG) {
    let d = cfg(i) - mean;
    sq += d * d;
  }
  let ss = sum_all(lid, sq);
  // std(c) / std(guided): the (n − 1) of both cancels
  let ratio = sqrt(ss.x / ss.y);
  for (var i = lid; i < n; i += WG) {
    let g = cfg(i).y;
    guided[i] = params.phi * (g * ratio) + (1.0 - params.phi) * g;
  }
}
