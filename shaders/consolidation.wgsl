// CIDM's concept consolidation loss on the LoRA up matrices (spec §2.2, the released code's
// loss_orth + loss_enhan), its value partials and its gradient, for all modules in one dispatch.
// For module m with this task's U [out, R] and the earlier tasks' Uᵢ [out, R]:
//   R1_code  = mean over (i, m) of mean_{p,q} |U Uᵢᵀ|_pq      (w_code = 1 / (tasks · modules · out²))
//   R1_paper = Σ_{i,m} Σ_{p,q} |U Uᵢᵀ|_pq
//   enhan    = mean over m of mean((U − 1)²)                   (w_enhan = 1 / (modules · out · R))
//   dR1_code/dU[p] = w_code · Σᵢ Σ_q sign((U Uᵢᵀ)_pq) · Uᵢ[q]   (torch: sign(0) = 0, d|x|/dx at 0 = 0)
//   d enhan/dU    = w_enhan · 2 (U − 1)
// One invocation owns one row p of one module: it never forms the out×out matrix, loops over the rows q
// of every Uᵢ (the same q in every invocation of a workgroup, so the reads are broadcasts), and adds
// γ·grad_scale·(w_r1·Σ sign·Uᵢ + w_enhan·2(U − 1)) into row p of the f32 gradient (no other invocation
// writes it). Its |·| sum and (U − 1)² sum go to `partials`, which src/ops/reduce.ts sums in a fixed
// order, so the values are deterministic. Sums over q run in blocks of 64 (a sum of sums), which keeps
// the f32 error of ~10⁴-term sums near that of a 64-term one.
// RANK is structural (every module of a task has the same rank), so u and the sums stay in registers.
#param RANK

struct Params {
  blocks: u32,
  tasks: u32,
  rows_total: u32,
  paper: u32,       // 1: the gradient of R1_paper instead of R1_code
  gamma: f32,
  grad_scale: f32,  // a loss scale the caller keeps in its gradients (1 if none)
}

struct Module {
  up: u32,         // first element of U in the flat params (and of dU in the flat gradients)
  old: u32,        // first element of U₀ in `old`; task i starts at old + i·rows·RANK
  rows: u32,       // out
  first_row: u32,  // this module's first row among all modules' rows (index into partials)
  w_code: f32,
  w_enhan: f32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> modules: array<Module>;
@group(0) @binding(2) var<storage, read> blocks: array<vec2<u32>>;  // (module, first row) per workgroup
@group(0) @binding(3) var<storage, read> up: array<f32>;
@group(0) @binding(4) var<storage, read> old: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;  // [3, rows_total]

const R: u32 = {{RANK}}u;
const QBLOCK: u32 = 64u;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= params.blocks) { return; }
  let bm = blocks[block];
  let md = modules[bm.x];
  let p = bm.y + lid;
  if (p >= md.rows) { return; }

  var u: array<f32, R>;
  for (var k = 0u; k < R; k++) { u[k] = up[md.up + p * R + k]; }
  var acc: array<f32, R>;
  for (var k = 0u; k < R; k++) { acc[k] = 0.0; }
  var abs_sum = 0.0;
  for (var i = 0u; i < params.tasks; i++) {
    let base = md.old + i * md.rows * R;
    for (var q0 = 0u; q0 < md.rows; q0 += QBLOCK) {
      let q1 = min(q0 + QBLOCK, md.rows);
      var blk_abs = 0.0;
      // Zeroed explicitly: WGSL says a `var` without initializer is zero at every execution of its
      // declaration, but the Dawn build in use keeps the previous iteration's values for one declared
      // in a loop body (measured on SwiftShader and lavapipe alike, for arrays and scalars).
      var blk: array<f32, R>;
      for (var k = 0u; k < R; k++) { blk[k] = 0.0; }
      for (var q = q0; q < q1; q++) {
        let o = base + q * R;
        var s = 0.0;
        for (var k = 0u; k < R; k++) { s += u[k] * old[o + k]; }
        blk_abs += abs(s);
        let sg = sign(s);
        for (var k = 0u; k < R; k++) { blk[k] += sg * old[o + k]; }
      }
      abs_sum += blk_abs;
      for (var k = 0u; k < R; k++) { acc[k] += blk[k]; }
    }
  }

  let scale = params.gamma * params.grad_scale;
  let w_r1 = scale * select(md.w_code, 1.0, params.paper == 1u);
  let w_en = scale * md.w_enhan * 2.0;
  var e = 0.0;
  for (var k = 0u; k < R; k++) {
    let d = u[k] - 1.0;
    e += d * d;
    let at = md.up + p * R + k;
    grad[at] = grad[at] + w_r1 * acc[k] + w_en * d;
  }
  let row = md.first_row + p;
  partials[row] = abs_sum * md.w_code;
  partials[params.rows_total + row] = abs_sum;
  partials[2u * params.rows_total + row] = e * md.w_enhan;
}
