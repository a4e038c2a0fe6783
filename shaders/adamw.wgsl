// One AdamW step over a flat f32 parameter group (torch.optim.AdamW, torch 1.13 single-tensor path,
// amsgrad off), one element per invocation, in torch's order of operations:
//   p ← p·(1 − lr·wd)
//   m ← m·β1 + (1 − β1)·g
//   v ← v·β2 + ((1 − β2)·g)·g                      (addcmul: value·t1·t2, left to right)
//   p ← p + (−step_size·m) / (sqrt(v)/sqrt(bc2) + eps)   (addcdiv: value·t1/t2)
// The scalars (decay, step_size = lr/bc1, sqrt(bc2)) are computed on the CPU in f64 and rounded to f32
// once, as torch casts a Python scalar to the tensor's dtype (src/cidm/train/adamw.ts).
// g is multiplied by inv_grad_scale first (1 unless the gradients carry a loss scale).

struct Params {
  count: u32,
  decay: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  neg_step_size: f32,
  bc2_sqrt: f32,
  eps: f32,
  inv_grad_scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // Large groups spill into y past 65535 workgroups (src/ops/grid.ts).
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) { return; }
  let grad = g[i] * params.inv_grad_scale;
  let pd = p[i] * params.decay;
  let mi = m[i] * params.beta1 + params.one_minus_beta1 * grad;
  let vi = v[i] * params.beta2 + (params.one_minus_beta2 * grad) * grad;
  let denom = sqrt(vi) / params.bc2_sqrt + params.eps;
  m[i] = mi;
  v[i] = vi;
  p[i] = pd + (params.neg_step_size * mi) / denom;
}
