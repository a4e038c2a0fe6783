// The diffusion training loss on the ε prediction and its gradient (spec §1.6; golden-training README
// item 6), one element per invocation:
//   plain:  L = mean((p − n)²)                                  w = 1/N
//   MASKED: L = mean_b Σ_{c,h,w}(mask·(p − n)²) / Σ_{h,w} mask   w = mask[b, h, w] / (B·Σ mask_b)
// with mask [B, 1, H, W] broadcast over the channels and its sum counting pixels once (CIDM's code).
// Writes terms[i] = w·e² (summed afterwards by src/ops/reduce.ts in a fixed order) and
// dL/dp[i] = 2·w·e, times grad_scale (a loss scale for an f16 backward), stored as GRAD_T.
#param PRED_T
#param TGT_T
#param GRAD_T
#param GRAD_BINDING
#param TERMS_BINDING
#if F16
enable f16;
#endif

struct Params {
  count: u32,
  per_sample: u32,  // C·H·W
  hw: u32,
  inv_n: f32,
  grad_scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pred: array<{{PRED_T}}>;
@group(0) @binding(2) var<storage, read> tgt: array<{{TGT_T}}>;
#if MASKED
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read> sample_weight: array<f32>;  // 1 / (B·Σ mask_b)
#endif
@group(0) @binding({{GRAD_BINDING}}) var<storage, read_write> grad: array<{{GRAD_T}}>;
@group(0) @binding({{TERMS_BINDING}}) var<storage, read_write> terms: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) { return; }
  let e = f32(pred[i]) - f32(tgt[i]);
#if MASKED
  let b = i / params.per_sample;
  let w = mask[b * params.hw + i % params.hw] * sample_weight[b];
#else
  let w = params.inv_n;
#endif
  terms[i] = e * e * w;
  grad[i] = {{GRAD_T}}(2.0 * e * w * params.grad_scale);
}
