// Softmax backward over the last axis from the forward's output y (no logits needed):
//   dx = y ∘ (dy − Σ_j dy_j y_j)          (the Jacobian diag(y) − y yᵀ applied to dy)
// A row is handled by a slice of `tpr` invocations (a power of two <= WG chosen from the row length, as
// softmax.wgsl), so a workgroup holds WG / tpr rows: short rows (77-token cross-attention) do not
// leave most of it idle. Each invocation sums dy·y over a strided slice in f32, a tree in workgroup
// memory adds the slices, then the row is read again to write dx.
// Defines: DTYPE (f32 | f16 storage of y, dy and dx; f32 math), SERIAL (tpr = 1: one invocation per
// row, no workgroup memory or barriers, which CPU drivers run far faster).
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  rows: u32,
  cols: u32,
  tpr: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read> dy: array<{{DTYPE}}>;
@group(0) @binding(3) var<storage, read_write> dx: array<{{DTYPE}}>;

// Must be a power of two (tree reduction).
override WG: u32 = 256u;
#if !SERIAL
var<workgroup> red: array<f32, WG>;
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tpr = params.tpr;
  let lane = lid & (tpr - 1u);
  // 2-D grid past 65535 workgroups (grid1d). No early return: every invocation must reach the
  // barriers, so a row past the end just has no columns.
  let row = (wid.x + wid.y * nwg.x) * (WG / tpr) + lid / tpr;
  let cols = select(0u, params.cols, row < params.rows);
  let base = row * params.cols;

  var dot = 0.0;
  for (var j = lane; j < cols; j += tpr) {
    dot += f32(dy[base + j]) * f32(y[base + j]);
  }
#if !SERIAL
  red[lid] = dot;
  workgroupBarrier();
  // tpr is uniform, so every invocation runs the same number of barriers.
  for (var h = tpr / 2u; h > 0u; h = h / 2u) {
    if (lane < h) { red[lid] += red[lid + h]; }
    workgroupBarrier();
  }
  dot = red[lid - lane];
#endif

  for (var j = lane; j < cols; j += tpr) {
    let v = f32(y[base + j]);
    dx[base + j] = {{DTYPE}}(v * (f32(dy[base + j]) - dot));
  }
}
