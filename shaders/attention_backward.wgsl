// Attention backward, FlashAttention-2 style (Dao 2023, Alg. 2), plus the row statistics it needs.
// Per (batch, head): S = scale·Q·Kᵀ (+ top-left causal mask), P = exp(S − lse) with the forward's per-row
// log-sum-exp, D = rowsum(dO∘O); dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − D), dQ = scale·dS·K, dK = scale·dSᵀ·Q.
// No T×T matrix exists: every score is recomputed from q, k and lse. WGSL has no float atomics, so each
// output row is owned by one invocation ("x" rows, in registers) that streams the other side ("y" rows)
// through workgroup-memory tiles, every tile read a broadcast, as in attention.wgsl:
//   lse: x = queries (q), y = keys (k); online max and sum (the forward's softmax), written as lse.
//   dq:  x = queries (q, dO), y = keys (k, v); acc += dS·k. Also writes D (the dk pass reads it).
//   dk:  x = keys (k, v), y = queries (q, dO, their lse and D); acc += dS·q.
//   dv:  x = keys (k), y = queries (q, dO, lse); acc += P·dO.
// dK and dV are separate passes so that no invocation holds more than three row vectors: k, v, dk and dv
// together are 256 floats at D = 64, which spill; the price is one more Q·Kᵀ. Base-2 math: x1 is scaled
// by scale·log2(e) on load and lse is turned into log2 units. Register blocks are named mat4x4s used with
// literal indices only (see attention.wgsl: indexed register arrays take lavapipe minutes to compile).
// SPLIT (D > 64): the head dim is cut into `chunks` chunks of CW = 16·NB columns; scores (and dP) are
// summed over the chunks in workgroup memory, and workgroup z owns output columns [z·CW, z·CW + CW).
#param DTYPE
#param NB
#param BK
#param TARGET
#if DTYPE == f16
enable f16;
#endif

struct Params {
  heads: u32,
  // x rows (tq for lse/dq, tk for dk/dv), y rows, and queries (rows of lse and D per head).
  nx: u32, ny: u32, tq: u32,
  // Head dim, elements per token (H·D), column chunks (1 unless SPLIT).
  dim: u32, cdim: u32, chunks: u32,
  // softmax scale · log2(e); factor applied to the accumulator on store (scale for dq/dk, 1 for dv).
  scale2: f32, oscale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x1g: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read> y1g: array<{{DTYPE}}>;
#if TARGET == lse
@group(0) @binding(3) var<storage, read_write> lseg: array<f32>;
#else
@group(0) @binding(3) var<storage, read> y2g: array<{{DTYPE}}>;
@group(0) @binding(4) var<storage, read> lseg: array<f32>;
@group(0) @binding(5) var<storage, read_write> outg: array<{{DTYPE}}>;
#endif
#if TARGET == dq
@group(0) @binding(6) var<storage, read> x2g: array<{{DTYPE}}>;
@group(0) @binding(7) var<storage, read> og: array<{{DTYPE}}>;
@group(0) @binding(8) var<storage, read_write> dg: array<f32>;
#elif TARGET == dk
@group(0) @binding(6) var<storage, read> x2g: array<{{DTYPE}}>;
@group(0) @binding(7) var<storage, read> dg: array<f32>;
#endif

override WG: u32 = 64u;
const RS = {{NB}}u * 4u; // vec4s per tile row
const CW = {{NB}}u * 16u; // columns per chunk
const TILE = {{BK}}u * RS;
var<workgroup> yt1: array<vec4<f32>, TILE>;
#if Y2
var<workgroup> yt2: array<vec4<f32>, TILE>;
#endif
#if SPLIT
var<workgroup> ss: array<f32, {{BK}}u * WG>;
#if X2
var<workgroup> dd: array<f32, {{BK}}u * WG>;
#endif
#endif
#if !Q_ROWS
var<workgroup> lt: array<f32, {{BK}}>;
#if X2
var<workgroup> dt: array<f32, {{BK}}>;
#endif
#endif
// A masked score: finite, so that no inf arithmetic is needed (WGSL may assume finite math).
const MASKED = -1e30;
const LOG2E = 1.4426950408889634;

var<private> x10: mat4x4<f32>; var<private> x11: mat4x4<f32>; var<private> x12: mat4x4<f32>; var<private> x13: mat4x4<f32>;
var<private> x20: mat4x4<f32>; var<private> x21: mat4x4<f32>; var<private> x22: mat4x4<f32>; var<private> x23: mat4x4<f32>;
var<private> a0: mat4x4<f32>; var<private> a1: mat4x4<f32>; var<private> a2: mat4x4<f32>; var<private> a3: mat4x4<f32>;

// Columns d..d+3 of the row at `base`; columns at or past `lim` read as 0 (clamped index, value dropped).
fn cols(d: u32) -> vec4<u32> { return vec4<u32>(d) + vec4<u32>(0u, 1u, 2u, 3u); }
fn at4(base: u32, d: u32, lim: u32) -> vec4<u32> { return min(cols(d), vec4<u32>(lim - 1u)) + vec4<u32>(base); }
fn in4(d: u32, lim: u32) -> vec4<bool> { return cols(d) < vec4<u32>(lim); }
fn ldx1(b: u32, d: u32, lim: u32) -> vec4<f32> {
  let i = at4(b, d, lim);
  return select(vec4<f32>(0.0), vec4<f32>(f32(x1g[i.x]), f32(x1g[i.y]), f32(x1g[i.z]), f32(x1g[i.w])), in4(d, lim));
}
fn ldy1(b: u32, d: u32, lim: u32) -> vec4<f32> {
  let i = at4(b, d, lim);
  return select(vec4<f32>(0.0), vec4<f32>(f32(y1g[i.x]), f32(y1g[i.y]), f32(y1g[i.z]), f32(y1g[i.w])), in4(d, lim));
}
fn bx1(b: u32, d: u32, lim: u32) -> mat4x4<f32> {
  return mat4x4<f32>(ldx1(b, d, lim), ldx1(b, d + 4u, lim), ldx1(b, d + 8u, lim), ldx1(b, d + 12u, lim)) * params.scale2;
}
#if Y2
fn ldy2(b: u32, d: u32, lim: u32) -> vec4<f32> {
  let i = at4(b, d, lim);
  return select(vec4<f32>(0.0), vec4<f32>(f32(y2g[i.x]), f32(y2g[i.y]), f32(y2g[i.z]), f32(y2g[i.w])), in4(d, lim));
}
#endif
#if X2
fn ldx2(b: u32, d: u32, lim: u32) -> vec4<f32> {
  let i = at4(b, d, lim);
  return select(vec4<f32>(0.0), vec4<f32>(f32(x2g[i.x]), f32(x2g[i.y]), f32(x2g[i.z]), f32(x2g[i.w])), in4(d, lim));
}
fn bx2(b: u32, d: u32, lim: u32) -> mat4x4<f32> {
  return mat4x4<f32>(ldx2(b, d, lim), ldx2(b, d + 4u, lim), ldx2(b, d + 8u, lim), ldx2(b, d + 12u, lim));
}
fn d2(m: mat4x4<f32>, a: u32) -> f32 {
  return dot(m[0], yt2[a]) + dot(m[1], yt2[a + 1u]) + dot(m[2], yt2[a + 2u]) + dot(m[3], yt2[a + 3u]);
}
#endif

// Loads this invocation's x row(s), columns [d0, lim), into the register blocks.
fn loadX(b: u32, d0: u32, lim: u32) {
  x10 = bx1(b, d0, lim);
#if B2
  x11 = bx1(b, d0 + 16u, lim);
#endif
#if B3
  x12 = bx1(b, d0 + 32u, lim);
#endif
#if B4
  x13 = bx1(b, d0 + 48u, lim);
#endif
#if X2
  x20 = bx2(b, d0, lim);
#if B2
  x21 = bx2(b, d0 + 16u, lim);
#endif
#if B3
  x22 = bx2(b, d0 + 32u, lim);
#endif
#if B4
  x23 = bx2(b, d0 + 48u, lim);
#endif
#endif
}

fn d1(m: mat4x4<f32>, a: u32) -> f32 {
  return dot(m[0], yt1[a]) + dot(m[1], yt1[a + 1u]) + dot(m[2], yt1[a + 2u]) + dot(m[3], yt1[a + 3u]);
}
// x1 · y1 (the score, log2 units) for the tile row starting at vec4 `a`.
fn score(a: u32) -> f32 {
  var s = d1(x10, a);
#if B2
  s += d1(x11, a + 4u);
#endif
#if B3
  s += d1(x12, a + 8u);
#endif
#if B4
  s += d1(x13, a + 12u);
#endif
  return s;
}
#if X2
// x2 · y2 (dP) for the tile row starting at vec4 `a`.
fn dscore(a: u32) -> f32 {
  var s = d2(x20, a);
#if B2
  s += d2(x21, a + 4u);
#endif
#if B3
  s += d2(x22, a + 8u);
#endif
#if B4
  s += d2(x23, a + 12u);
#endif
  return s;
}
#endif

#if ACC
// The accumulated operand of the tile row: y1 (dq: k, dk: q) times dS, or y2 (dv: dO) times P.
fn ya(a: u32) -> vec4<f32> {
#if TARGET == dv
  return yt2[a];
#else
  return yt1[a];
#endif
}
fn axpy(o: mat4x4<f32>, w: f32, a: u32) -> mat4x4<f32> {
  return mat4x4<f32>(o[0] + w * ya(a), o[1] + w * ya(a + 1u), o[2] + w * ya(a + 2u), o[3] + w * ya(a + 3u));
}
fn accumulate(w: f32, a: u32) {
  a0 = axpy(a0, w, a);
#if B2
  a1 = axpy(a1, w, a + 4u);
#endif
#if B3
  a2 = axpy(a2, w, a + 8u);
#endif
#if B4
  a3 = axpy(a3, w, a + 12u);
#endif
}
// Columns d..d+15 of the row at `base`, those before `lim`. A loop with a runtime count, not 16 guarded
// stores: those took lavapipe as long to compile as the whole key loop (a one-time epilogue on GPUs).
fn store16(o: mat4x4<f32>, base: u32, d: u32, lim: u32) {
  let n = min(16u, max(lim, d) - d);
  for (var c = 0u; c < n; c++) { outg[base + d + c] = {{DTYPE}}(o[c / 4u][c % 4u] * params.oscale); }
}
#endif

// Stages tile rows [y0, y0 + BK) of y1 (and y2), columns [d0, lim), zero past ny and lim; for key rows
// (dk, dv) also the tile's query statistics: lse in log2 units, and D.
fn stage(y0: u32, base: u32, sBase: u32, d0: u32, lim: u32, lid: u32) {
  for (var e = lid; e < TILE; e += WG) {
    let y = y0 + e / RS;
    let at = base + min(y, params.ny - 1u) * params.cdim;
    let d = d0 + (e % RS) * 4u;
    yt1[e] = select(vec4<f32>(0.0), ldy1(at, d, lim), y < params.ny);
#if Y2
    yt2[e] = select(vec4<f32>(0.0), ldy2(at, d, lim), y < params.ny);
#endif
  }
#if !Q_ROWS
  if (lid < {{BK}}u) {
    let y = min(y0 + lid, params.ny - 1u);
    lt[lid] = lseg[sBase + y] * LOG2E;
#if X2
    dt[lid] = dg[sBase + y];
#endif
  }
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x * WG + lid;
  let b = wid.y / params.heads;
  let h = wid.y % params.heads;
  // Element (b, t, h, d) of a [B, T, H·D] operand is at (b·T + t)·cdim + h·dim + d.
  let xBase = (b * params.nx + min(row, params.nx - 1u)) * params.cdim + h * params.dim;
  let yBase = b * params.ny * params.cdim + h * params.dim;
  let sBase = (b * params.heads + h) * params.tq;
  let col0 = wid.z * CW; // first output column (SPLIT)
  let lim = min(params.dim, col0 + CW);
#if TARGET == dq
  let lse2 = lseg[sBase + min(row, params.nx - 1u)] * LOG2E;
  // D = rowsum(dO∘O) of this query row (FlashAttention-2 Alg. 2), for this pass and the dk pass.
  var dsum = 0.0;
  for (var d = 0u; d < params.dim; d++) { dsum += f32(x2g[xBase + d]) * f32(og[xBase + d]); }
  if (wid.z == 0u && row < params.nx) { dg[sBase + row] = dsum; }
#endif
#if !SPLIT
  loadX(xBase, 0u, params.dim);
#endif
#if TARGET == lse
  var m = MASKED;
  var l = 0.0;
#endif
  var yStart = 0u;
  var yEnd = params.ny;
#if CAUSAL
  // Key j is visible to query i iff j <= i (top-left aligned, as the forward): tiles that no row of this
  // workgroup sees are skipped (later keys for query rows, earlier queries for key rows).
#if Q_ROWS
  yEnd = min(yEnd, wid.x * WG + WG);
#else
  yStart = wid.x * WG;
#endif
#endif
  for (var y0 = yStart; y0 < yEnd; y0 += {{BK}}u) {
    let jEnd = min({{BK}}u, yEnd - y0);
#if SPLIT
    for (var ch = 0u; ch < params.chunks; ch++) {
      let d0 = ch * CW;
      let lc = min(params.dim, d0 + CW);
      workgroupBarrier();
      stage(y0, yBase, sBase, d0, lc, lid);
      workgroupBarrier();
      loadX(xBase, d0, lc);
      for (var j = 0u; j < jEnd; j++) {
        let at = j * WG + lid;
        ss[at] = select(ss[at], 0.0, ch == 0u) + score(j * RS);
#if X2
        dd[at] = select(dd[at], 0.0, ch == 0u) + dscore(j * RS);
#endif
      }
    }
#if ACC
    workgroupBarrier();
    stage(y0, yBase, sBase, col0, lim, lid);
    workgroupBarrier();
#endif
#else
    workgroupBarrier();
    stage(y0, yBase, sBase, 0u, params.dim, lid);
    workgroupBarrier();
#endif
    for (var j = 0u; j < jEnd; j++) {
      let y = y0 + j;
      var ok = y < params.ny;
#if CAUSAL
#if Q_ROWS
      ok = ok && y <= row;
#else
      ok = ok && row <= y;
#endif
#endif
#if SPLIT
      let s = select(MASKED, ss[j * WG + lid], ok);
#else
      let s = select(MASKED, score(j * RS), ok);
#endif
#if TARGET == lse
      // Online softmax (FlashAttention-2 Alg. 1, lines 9-10) without an accumulator.
      if (s > m) {
        l *= exp2(m - s);
        m = s;
      }
      l += select(0.0, exp2(s - m), ok);
#else
#if Q_ROWS
      let p = exp2(select(MASKED, s - lse2, ok));
#else
      let p = exp2(select(MASKED, s - lt[j], ok));
#endif
#if TARGET == dv
      accumulate(p, j * RS);
#else
#if SPLIT
      let dp = dd[j * WG + lid];
#else
      let dp = dscore(j * RS);
#endif
#if Q_ROWS
      accumulate(p * (dp - dsum), j * RS);
#else
      accumulate(p * (dp - dt[j]), j * RS);
#endif
#endif
#endif
    }
  }

  if (row >= params.nx) { return; }
#if TARGET == lse
  // lse in natural-log units: (m + log2 l) · ln 2.
  lseg[sBase + row] = (m + log2(l)) * 0.6931471805599453;
#else
  let oBase = (b * params.nx + row) * params.cdim + h * params.dim;
  store16(a0, oBase, col0, lim);
#if B2
  store16(a1, oBase, col0 + 16u, lim);
#endif
#if B3
  store16(a2, oBase, col0 + 32u, lim);
#endif
#if B4
  store16(a3, oBase, col0 + 48u, lim);
#endif
#endif
}
