// CIDM's region noise estimation and aggregation (Eq. 4-5, spec §4.3 corrected form) on the GPU, for the
// GPU sampling loop (src/ops/regional-noise-aggregation.ts; the host form is
// src/cidm/regional/noise-aggregation.ts + passes.ts combinePasses, reproduced here term by term):
//   E   = ε_unc + s·(ε_all − ε_unc)   (guided; unguided: E = ε_all)
//   E_u = ε_unc + s·(ε_u − ε_unc)     (guided; unguided: E_u = ε_u; one region: E_u = E, no pass of its own)
//   c_u = (1 − α)·m_u / max(1, Σ_v m_v)
//   E*  = E + Σ_u c_u·(E_u − E)       (E* = E exactly where every mask is 0, as the host form)
// pred holds the passes [rows, C, plane]; masks the latent masks [U, plane] (broadcast over C). One
// invocation per output value; U is small (painted regions), so each walks the masks itself.
#param P_T
#if F16
enable f16;
#endif

struct Params {
  plane: u32,
  // C·plane: values per pass
  n: u32,
  regions: u32,
  // 1: guided (E, E_u against the uncond pass)
  guided: u32,
  uncond_row: u32,
  all_row: u32,
  // row of region 0's pass (regions follow in order); only read when region_rows = 1
  region_base: u32,
  region_rows: u32,
  scale: f32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pred: array<{{P_T}}>;
@group(0) @binding(2) var<storage, read> masks: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u;

fn estimate(row: u32, i: u32) -> f32 {
  let cond = f32(pred[row * params.n + i]);
  if (params.guided == 0u) { return cond; }
  let u = f32(pred[params.uncond_row * params.n + i]);
  return u + params.scale * (cond - u);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) { return; }
  let p = i % params.plane;
  let e = estimate(params.all_row, i);
  var total = 0.0;
  for (var u = 0u; u < params.regions; u++) { total += masks[u * params.plane + p]; }
  // outside every region: E itself (noise-aggregation.ts skips these pixels)
  if (total == 0.0 || params.region_rows == 0u) { out[i] = e; return; }
  let norm = max(1.0, total);
  var d = 0.0;
  for (var u = 0u; u < params.regions; u++) {
    let c = (1.0 - params.alpha) * (masks[u * params.plane + p] / norm);
    d += c * (estimate(params.region_base + u, i) - e);
  }
  out[i] = e + d;
}
