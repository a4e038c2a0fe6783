// One sampling step after the UNet, in one dispatch (src/ops/sampler-step.ts): classifier-free
// guidance, the scheduler's linear update (src/diffusion/schedulers/linear-step.ts), the next UNet
// input (scaled, repeated over the CFG rows) and the latent preview. One invocation per latent pixel
// walks the channels, so the preview's C→RGB map sees all of a pixel's channels.
//   guided = u + g·(c − u)                (diffusers: noise_pred_uncond + g·(text − uncond); no CFG: u)
//   x'     = a·x + b·guided + Σ_s h_s·hist_s + d·noise;   hist_s ← kx_s·x + ko_s·guided for the kept
//   slots (4 history slots of C·plane each in `hist`; every slot is read before any is written)
//   sample[r] = x'·in_scale for every row r;    preview x̂₀ = px·x + po·guided (x before the update)
// Inpainting (diffusers 0.25.1 SDXL inpaint l. 1729–1742, src/diffusion/img2img.ts 3.): with FLAG_BLEND
//   x' ← (1 − m)·(bs·image + bn·ε) + m·x'  (m the latent mask, bs/bn add_noise at the next timestep)
// before x' is stored and scaled, from `edit` = [image latents (C·plane) | ε (C·plane) | mask (plane)].
// A sample row holds row_stride values: a 9-channel inpainting UNet's rows are [x' (C), mask, masked
// image latents]; only the first C channels change per step, the rest stay as uploaded once per run.
// With FLAG_PRE_GUIDED the guided prediction is read from guided_out (written by cfg_rescale.wgsl,
// guidance rescale) instead of computed here.
// Optional parts are switched by uniform flags, not defines: one pipeline per dtype pair serves
// every sampler, and every binding stays statically used (auto layouts drop unused ones).
#param P_T
#param S_T
#if F16
enable f16;
#endif

const FLAG_HIST: u32 = 1u;
const FLAG_KEEP: u32 = 2u;
const FLAG_NOISE: u32 = 4u;
const FLAG_PREVIEW: u32 = 8u;
const FLAG_GUIDED: u32 = 16u;
const FLAG_BLEND: u32 = 32u;
const FLAG_PRE_GUIDED: u32 = 64u;

struct Params {
  plane: u32,
  channels: u32,
  rows: u32,
  // values per sample row (≥ channels·plane)
  row_stride: u32,
  // element offset of the cond row in pred; 0 = no CFG (pred holds the one prediction)
  cond_offset: u32,
  flags: u32,
  guidance: f32,
  step_x: f32,
  step_out: f32,
  step_noise: f32,
  // history slots written this step, one bit per slot
  keep_mask: u32,
  in_scale: f32,
  blend_signal: f32,
  blend_noise: f32,
  preview_x: f32,
  preview_out: f32,
  // per history slot: its coefficient in x', and the kept form (slot ← keep_x·x + keep_out·guided)
  step_hist: vec4<f32>,
  keep_x: vec4<f32>,
  keep_out: vec4<f32>,
  // latent channel k → RGB in rgb_k.xyz (4 channels), bias in rgb_bias.xyz; the fit maps to [-1, 1]
  rgb_bias: vec4<f32>,
  rgb_0: vec4<f32>,
  rgb_1: vec4<f32>,
  rgb_2: vec4<f32>,
  rgb_3: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> pred: array<{{P_T}}>;
@group(0) @binding(3) var<storage, read_write> hist: array<f32>;
@group(0) @binding(4) var<storage, read> noise: array<f32>;
@group(0) @binding(5) var<storage, read_write> sample: array<{{S_T}}>;
@group(0) @binding(6) var<storage, read_write> guided_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> preview: array<u32>;
@group(0) @binding(8) var<storage, read> edit: array<f32>;

override WG: u32 = 64u;

fn rgb_of(c: u32) -> vec3<f32> {
  switch c {
    case 0u: { return params.rgb_0.xyz; }
    case 1u: { return params.rgb_1.xyz; }
    case 2u: { return params.rgb_2.xyz; }
    default: { return params.rgb_3.xyz; }
  }
}

fn has(flag: u32) -> bool {
  return (params.flags & flag) != 0u;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = gid.x + gid.y * nwg.x * WG;
  if (p >= params.plane) { return; }
  var rgb = params.rgb_bias.xyz;
  let n = params.plane * params.channels;
  for (var c = 0u; c < params.channels; c++) {
    let i = c * params.plane + p;
    var g: f32;
    if (has(FLAG_PRE_GUIDED)) { g = guided_out[i]; }
    else {
      let u = f32(pred[i]);
      g = u;
      if (params.cond_offset != 0u) { g = u + params.guidance * (f32(pred[params.cond_offset + i]) - u); }
    }
    let xi = x[i];
    var next = params.step_x * xi + params.step_out * g;
    if (has(FLAG_HIST)) {
      next += dot(params.step_hist, vec4<f32>(hist[i], hist[n + i], hist[2u * n + i], hist[3u * n + i]));
    }
    if (has(FLAG_NOISE)) { next += params.step_noise * noise[i]; }
    if (has(FLAG_KEEP)) {
      for (var s = 0u; s < 4u; s++) {
        if ((params.keep_mask & (1u << s)) != 0u) { hist[s * n + i] = params.keep_x[s] * xi + params.keep_out[s] * g; }
      }
    }
    if (has(FLAG_GUIDED) && !has(FLAG_PRE_GUIDED)) { guided_out[i] = g; }
    if (has(FLAG_PREVIEW) && c < 4u) { rgb += (params.preview_x * xi + params.preview_out * g) * rgb_of(c); }
    if (has(FLAG_BLEND)) {
      let m = edit[2u * n + p];
      next = (1.0 - m) * (params.blend_signal * edit[i] + params.blend_noise * edit[n + i]) + m * next;
    }
    x[i] = next;
    let s = {{S_T}}(next * params.in_scale);
    for (var r = 0u; r < params.rows; r++) { sample[r * params.row_stride + i] = s; }
  }
  if (has(FLAG_PREVIEW)) { preview[p] = pack4x8unorm(vec4<f32>(clamp((rgb + 1.0) * 0.5, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0)); }
}
