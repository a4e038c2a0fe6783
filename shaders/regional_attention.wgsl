// Regional cross-attention (CIDM §4.2, spec §4.2 / §9.3), one dispatch for the global prompt and all
// regions. K/V hold 1 + U prompts per batch element, prompt 0 the global one, 1..U the regions. For each
// query row t of batch b, head h (softmax over each prompt's own Tk keys; scale folded into q):
//   O_a = softmax(q·K_aᵀ)·V_a
//   w_u = mask[b', u, t] · active[b, u],  total = Σ_u w_u
//   out = (1 − min(1, total))·O_0 + Σ_u w_u·O_u / max(1, total)
// which for binary masks is Mix-of-Show's rule: the global output replaced inside any region, overlaps
// averaged (spec §4.2 "Combination"). The weight c_a of the row is folded into the probabilities, so
// each prompt is the same two steps on workgroup memory: scores S = Q·Kᵀ for ROWS query rows, then
// acc += (c_a·softmax(S))·V.
// Work is skipped where it contributes nothing: a workgroup runs prompt a only if one of its rows has
// c_a > 0 (bit a of `need`), and a row with c_a = 0 skips the value sum. Skipped terms are exactly 0,
// so an output row depends only on the prompts whose weight there is > 0.
// V is the compute type: vec4<f32> when the head dim is a multiple of 4 (LANES 4: 4× fewer loads and
// instructions), else f32; VT the matching storage type. Dims below are in units of V.
// Text K/V are tiny (77 tokens) and read from storage (cached): in the score step the lanes of one key
// read the same K row (a broadcast), in the value step consecutive lanes read consecutive V columns.
// Q is either one [B, tq, H·D] shared by every prompt (q_p = 0: loaded once) or one per prompt,
// [B, 1 + U, tq, H·D] (q_p = tq·H·D: reloaded for each prompt run) — concept-aware regions, where each
// prompt's attention uses its own EWA-adapted to_q (src/model/unet/forward.ts regionalAttentionModule).
#param DTYPE
#param LANES
#param ROWS
#param DV
#param TKMAX
#if DTYPE == f16
enable f16;
#endif
#if LANES == 4
alias V = vec4<f32>;
alias VT = vec4<{{DTYPE}}>;
fn dotv(a: V, b: V) -> f32 { return dot(a, b); }
#else
alias V = f32;
alias VT = {{DTYPE}};
fn dotv(a: V, b: V) -> f32 { return a * b; }
#endif

struct Params {
  heads: u32, tq: u32, tk: u32,
  // head dim in units of V
  dim: u32,
  // U (1..31), and the masks' batch stride: 0 when one mask set serves the whole batch, else U·tq.
  regions: u32, mask_b: u32,
  scale: f32,
  // q's batch stride and prompt stride in units of V (q_p = 0: one q for every prompt)
  q_b: u32, q_p: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qs: array<VT>;           // [B, tq, H·D] or [B, 1 + U, tq, H·D]
@group(0) @binding(2) var<storage, read> kg: array<VT>;           // [B, 1 + U, tk, H·D]
@group(0) @binding(3) var<storage, read> vg: array<VT>;
@group(0) @binding(4) var<storage, read> masks: array<f32>;       // [1 or B, U, tq]
@group(0) @binding(5) var<storage, read> act: array<f32>;         // [B, U]
@group(0) @binding(6) var<storage, read_write> og: array<VT>;     // [B, tq, H·D]

override WG: u32 = 64u;
// Lanes per query row in the softmax step (WG = ROWS · G).
override G: u32 = 4u;
// A masked max; finite so that no inf arithmetic is needed (WGSL may assume finite math).
const MASKED = -1e30;
var<workgroup> qt: array<V, {{ROWS}}u * {{DV}}u>;        // scaled q rows
var<workgroup> sc: array<f32, {{ROWS}}u * {{TKMAX}}u>;   // scores, then c·probabilities
var<workgroup> acc: array<V, {{ROWS}}u * {{DV}}u>;       // the combined output
var<workgroup> gcoef: array<f32, {{ROWS}}u>;             // 1 − min(1, total)
var<workgroup> inv: array<f32, {{ROWS}}u>;               // 1 / max(1, total)
var<workgroup> rowc: array<f32, {{ROWS}}u>;              // this prompt's weight per row
var<workgroup> pm: array<f32, WG>;                       // softmax partial max / sum per lane
var<workgroup> pl: array<f32, WG>;
var<workgroup> rowbits: array<u32, {{ROWS}}u>;
var<workgroup> need: u32;

fn weight(b: u32, u: u32, row: u32) -> f32 {
  if (row >= params.tq) { return 0.0; }
  return clamp(masks[b * params.mask_b + u * params.tq + row], 0.0, 1.0) * act[b * params.regions + u];
}

// The scaled q rows of prompt a for this workgroup's rows and head into qt.
fn load_q(lid: u32, row0: u32, b: u32, h: u32, a: u32) {
  let D = params.dim;
  let C = params.heads * D;
  for (var e = lid; e < {{ROWS}}u * D; e += WG) {
    let r = e / D;
    let row = min(row0 + r, params.tq - 1u);
    qt[r * {{DV}}u + e % D] = V(qs[b * params.q_b + a * params.q_p + row * C + h * D + e % D]) * params.scale;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row0 = wid.x * {{ROWS}}u;
  let b = wid.y / params.heads;
  let h = wid.y % params.heads;
  let D = params.dim;
  let C = params.heads * D;
  let U = params.regions;
  if (params.q_p == 0u) { load_q(lid, row0, b, h, 0u); }
  for (var e = lid; e < {{ROWS}}u * D; e += WG) { acc[e / D * {{DV}}u + e % D] = V(0.0); }
  if (lid < {{ROWS}}u) {
    var total = 0.0;
    var bits = 0u;
    for (var u = 0u; u < U; u++) {
      let w = weight(b, u, row0 + lid);
      total += w;
      if (w > 0.0) { bits |= 2u << u; }
    }
    let g = select(0.0, 1.0 - min(1.0, total), row0 + lid < params.tq);
    if (g > 0.0) { bits |= 1u; }
    gcoef[lid] = g;
    inv[lid] = 1.0 / max(1.0, total);
    rowbits[lid] = bits;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var all = 0u;
    for (var r = 0u; r < {{ROWS}}u; r++) { all |= rowbits[r]; }
    need = all;
  }
  let flags = workgroupUniformLoad(&need);

  for (var a = 0u; a <= U; a++) {
    // a workgroup-uniform flag: the barriers below stay in uniform control flow
    if (((flags >> a) & 1u) == 0u) { continue; }
    if (params.q_p != 0u) {
      // this prompt's own q (the previous prompt's last barrier ended every read of qt)
      load_q(lid, row0, b, h, a);
      workgroupBarrier();
    }
    let kBase = (b * (U + 1u) + a) * params.tk * C + h * D;
    if (lid < {{ROWS}}u) {
      var c = gcoef[lid];
      if (a > 0u) { c = weight(b, a - 1u, row0 + lid) * inv[lid]; }
      rowc[lid] = c;
    }
    // S = Q·Kᵀ; the ROWS lanes of one key share its K row.
    for (var e = lid; e < {{ROWS}}u * params.tk; e += WG) {
      let r = e % {{ROWS}}u;
      let j = e / {{ROWS}}u;
      let kb = kBase + j * C;
      var s = 0.0;
      for (var d = 0u; d < D; d++) { s += dotv(qt[r * {{DV}}u + d], V(kg[kb + d])); }
      sc[r * {{TKMAX}}u + j] = s;
    }
    workgroupBarrier();
    // c_a·softmax(S): G = WG / ROWS lanes per row, lane g owning keys g, g + G, ... (all lanes busy:
    // a CPU adapter runs masked-off lanes too). Partial max and sum per lane, then each lane merges its
    // row's G partials and scales its own keys.
    let r = lid / G;
    let g = lid % G;
    let base = r * {{TKMAX}}u;
    let c = rowc[r];
    var m = MASKED;
    var l = 0.0;
    if (c != 0.0) {
      for (var j = g; j < params.tk; j += G) { m = max(m, sc[base + j]); }
      for (var j = g; j < params.tk; j += G) {
        let p = exp(sc[base + j] - m);
        sc[base + j] = p;
        l += p;
      }
    }
    pm[lid] = m;
    pl[lid] = l;
    workgroupBarrier();
    if (c != 0.0) {
      var mx = MASKED;
      for (var i = 0u; i < G; i++) { mx = max(mx, pm[r * G + i]); }
      var sum = 0.0;
      for (var i = 0u; i < G; i++) { sum += pl[r * G + i] * exp(pm[r * G + i] - mx); }
      let f = c * exp(m - mx) / sum;
      for (var j = g; j < params.tk; j += G) { sc[base + j] *= f; }
    }
    workgroupBarrier();
    // acc += P·V, one (row, column) pair per step; each invocation owns the same pairs for every prompt.
    for (var e = lid; e < {{ROWS}}u * D; e += WG) {
      let r = e / D;
      if (rowc[r] != 0.0) {
        let d = e % D;
        var o = V(0.0);
        for (var j = 0u; j < params.tk; j++) { o += sc[r * {{TKMAX}}u + j] * V(vg[kBase + j * C + d]); }
        acc[r * {{DV}}u + d] += o;
      }
    }
    workgroupBarrier();
  }
  for (var e = lid; e < {{ROWS}}u * D; e += WG) {
    let r = e / D;
    if (row0 + r < params.tq) { og[(b * params.tq + row0 + r) * C + h * D + e % D] = VT(acc[r * {{DV}}u + e % D]); }
  }
}
