// Fused (flash) attention forward: out = softmax(scale · Q·Kᵀ [+ causal mask]) · V, per (batch, head).
// FlashAttention-2 (Dao 2023, Alg. 1): K/V stream through workgroup memory in tiles of BK keys and each
// query row keeps a running max m and sum l (online softmax, Milakov & Gimelshein 2018), so the Tq×Tk
// score matrix never exists. One invocation owns one query row; every K/V read is a broadcast (all
// lanes read the same key). f32 math; DTYPE is the storage type. Base-2 softmax: the host folds log2(e)
// into `scale`. Element (b, h, t, d) of operand X is at X_off + b·X_b + h·X_h + t·X_t + d, so q/k/v/out
// may be slices of fused tensors (qkv [B,T,3·H·D]) or other layouts without copies.
// Registers: q and the accumulator are NB named mat4x4 blocks of 16 columns (B2..B5 enable blocks 2..5)
// used with literal indices only: the first form, register arrays indexed in loops, took lavapipe
// minutes to compile for D = 64, and one key per loop step keeps the loop body small. The accumulator is
// rescaled only when the max grows by more than SLACK (log2 units), as FlashAttention-4's conditional
// rescaling: p = exp2(s - m) <= 2^SLACK, and o / l is exact because o and l share the same stale m.
// SPLIT (D > 80): workgroup z owns output columns [64z, 64z + 64); the scores are summed over all
// 64-column chunks of K (recomputed per output chunk: a slower path) in workgroup memory.
#param DTYPE
#param NB
#param BK
#if DTYPE == f16
enable f16;
#endif

struct Params {
  heads: u32, tq: u32, tk: u32, dim: u32,
  // Column chunks of 64 (1 unless SPLIT).
  chunks: u32,
  // softmax scale · log2(e)
  scale: f32,
  q_off: u32, q_b: u32, q_h: u32, q_t: u32,
  k_off: u32, k_b: u32, k_h: u32, k_t: u32,
  v_off: u32, v_b: u32, v_h: u32, v_t: u32,
  o_off: u32, o_b: u32, o_h: u32, o_t: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qs: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read> kg: array<{{DTYPE}}>;
@group(0) @binding(3) var<storage, read> vg: array<{{DTYPE}}>;
@group(0) @binding(4) var<storage, read_write> og: array<{{DTYPE}}>;

// Query rows per workgroup, one per invocation.
override WG: u32 = 64u;
// vec4s per key in the tiles (16 columns per block) and vec4s per tile.
const RS = {{NB}}u * 4u;
const TILE = {{BK}}u * RS;
var<workgroup> kt: array<vec4<f32>, TILE>;
var<workgroup> vt: array<vec4<f32>, TILE>;
#if SPLIT
var<workgroup> ss: array<f32, {{BK}}u * WG>;
#endif
// A masked score; finite so that no inf arithmetic is needed (WGSL may assume finite math).
const MASKED = -1e30;
const SLACK = 8.0;

var<private> q0: mat4x4<f32>; var<private> q1: mat4x4<f32>; var<private> q2: mat4x4<f32>;
var<private> q3: mat4x4<f32>; var<private> q4: mat4x4<f32>;
var<private> o0: mat4x4<f32>; var<private> o1: mat4x4<f32>; var<private> o2: mat4x4<f32>;
var<private> o3: mat4x4<f32>; var<private> o4: mat4x4<f32>;

// Columns d..d+3 of the row at `base`; columns at or past `lim` read as 0 (the index is clamped, the
// value dropped: no branches).
fn cols(d: u32) -> vec4<u32> { return vec4<u32>(d) + vec4<u32>(0u, 1u, 2u, 3u); }
fn ldq(base: u32, d: u32, lim: u32) -> vec4<f32> {
  let i = min(cols(d), vec4<u32>(lim - 1u)) + vec4<u32>(base);
  return select(vec4<f32>(0.0), vec4<f32>(f32(qs[i.x]), f32(qs[i.y]), f32(qs[i.z]), f32(qs[i.w])), cols(d) < vec4<u32>(lim));
}
fn ldk(base: u32, d: u32, lim: u32) -> vec4<f32> {
  let i = min(cols(d), vec4<u32>(lim - 1u)) + vec4<u32>(base);
  return select(vec4<f32>(0.0), vec4<f32>(f32(kg[i.x]), f32(kg[i.y]), f32(kg[i.z]), f32(kg[i.w])), cols(d) < vec4<u32>(lim));
}
fn ldv(base: u32, d: u32, lim: u32) -> vec4<f32> {
  let i = min(cols(d), vec4<u32>(lim - 1u)) + vec4<u32>(base);
  return select(vec4<f32>(0.0), vec4<f32>(f32(vg[i.x]), f32(vg[i.y]), f32(vg[i.z]), f32(vg[i.w])), cols(d) < vec4<u32>(lim));
}
fn qblock(base: u32, d: u32, lim: u32) -> mat4x4<f32> {
  return mat4x4<f32>(ldq(base, d, lim), ldq(base, d + 4u, lim), ldq(base, d + 8u, lim), ldq(base, d + 12u, lim)) * params.scale;
}
fn loadQ(base: u32, d: u32, lim: u32) {
  q0 = qblock(base, d, lim);
#if B2
  q1 = qblock(base, d + 16u, lim);
#endif
#if B3
  q2 = qblock(base, d + 32u, lim);
#endif
#if B4
  q3 = qblock(base, d + 48u, lim);
#endif
#if B5
  q4 = qblock(base, d + 64u, lim);
#endif
}

fn dot16(q: mat4x4<f32>, a: u32) -> f32 {
  return dot(q[0], kt[a]) + dot(q[1], kt[a + 1u]) + dot(q[2], kt[a + 2u]) + dot(q[3], kt[a + 3u]);
}
// q · key, for the key whose tile row starts at vec4 `a`.
fn score(a: u32) -> f32 {
  var s = dot16(q0, a);
#if B2
  s += dot16(q1, a + 4u);
#endif
#if B3
  s += dot16(q2, a + 8u);
#endif
#if B4
  s += dot16(q3, a + 12u);
#endif
#if B5
  s += dot16(q4, a + 16u);
#endif
  return s;
}

fn axpy16(o: mat4x4<f32>, p: f32, a: u32) -> mat4x4<f32> {
  return mat4x4<f32>(o[0] + p * vt[a], o[1] + p * vt[a + 1u], o[2] + p * vt[a + 2u], o[3] + p * vt[a + 3u]);
}
// o += p · value, for the key whose tile row starts at vec4 `a`.
fn accumulate(p: f32, a: u32) {
  o0 = axpy16(o0, p, a);
#if B2
  o1 = axpy16(o1, p, a + 4u);
#endif
#if B3
  o2 = axpy16(o2, p, a + 8u);
#endif
#if B4
  o3 = axpy16(o3, p, a + 12u);
#endif
#if B5
  o4 = axpy16(o4, p, a + 16u);
#endif
}
fn rescale(alpha: f32) {
  o0 *= alpha; o1 *= alpha; o2 *= alpha; o3 *= alpha; o4 *= alpha;
}

// Stages tile rows [k0, k0 + BK) of K (or V) columns [d0, d0 + 4·RS), zero past tk and past `lim`.
fn stage(k0: u32, base: u32, stride: u32, d0: u32, lim: u32, lid: u32, isK: bool) {
  for (var e = lid; e < TILE; e += WG) {
    let key = k0 + e / RS;
    let at = base + min(key, params.tk - 1u) * stride;
    let d = d0 + (e % RS) * 4u;
    if (isK) { kt[e] = select(vec4<f32>(0.0), ldk(at, d, lim), key < params.tk); }
    else { vt[e] = select(vec4<f32>(0.0), ldv(at, d, lim), key < params.tk); }
  }
}

fn store16(o: mat4x4<f32>, base: u32, d: u32, lim: u32) {
  for (var c = 0u; c < 4u; c++) {
    for (var i = 0u; i < 4u; i++) {
      let col = d + c * 4u + i;
      if (col < lim) { og[base + col] = {{DTYPE}}(o[c][i]); }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x * WG + lid;
  let b = wid.y / params.heads;
  let h = wid.y % params.heads;
  let col0 = wid.z * 64u; // first output column (SPLIT)
  let qBase = params.q_off + b * params.q_b + h * params.q_h + min(row, params.tq - 1u) * params.q_t;
  let kBase = params.k_off + b * params.k_b + h * params.k_h;
  let vBase = params.v_off + b * params.v_b + h * params.v_h;
  let lim = min(params.dim, col0 + 4u * RS);
#if !SPLIT
  loadQ(qBase, 0u, params.dim);
#endif
  var m = MASKED;
  var l = 0.0;
  var kEnd = params.tk;
#if CAUSAL
  // Top-left aligned causal mask (key j visible to query i iff j <= i, as torch's is_causal): no row of
  // this workgroup sees past its last row, so later tiles are skipped.
  kEnd = min(kEnd, wid.x * WG + WG);
#endif
  for (var k0 = 0u; k0 < kEnd; k0 += {{BK}}u) {
    // Keys of this tile: a runtime bound, which also keeps compilers from unrolling the key loop.
    let jEnd = min({{BK}}u, kEnd - k0);
#if SPLIT
    for (var ch = 0u; ch < params.chunks; ch++) {
      let d0 = ch * 64u;
      workgroupBarrier();
      stage(k0, kBase, params.k_t, d0, min(params.dim, d0 + 64u), lid, true);
      workgroupBarrier();
      loadQ(qBase, d0, min(params.dim, d0 + 64u));
      for (var j = 0u; j < jEnd; j++) {
        let at = j * WG + lid;
        ss[at] = select(ss[at], 0.0, ch == 0u) + score(j * RS);
      }
    }
    workgroupBarrier();
    stage(k0, vBase, params.v_t, col0, lim, lid, false);
    workgroupBarrier();
#else
    workgroupBarrier();
    stage(k0, kBase, params.k_t, 0u, params.dim, lid, true);
    stage(k0, vBase, params.v_t, 0u, params.dim, lid, false);
    workgroupBarrier();
#endif
    for (var j = 0u; j < jEnd; j++) {
      let key = k0 + j;
      var ok = key < params.tk;
#if CAUSAL
      ok = ok && key <= row;
#endif
#if SPLIT
      let s = select(MASKED, ss[j * WG + lid], ok);
#else
      let s = select(MASKED, score(j * RS), ok);
#endif
      // Online softmax (FlashAttention-2 Alg. 1, lines 9-10), rescaled lazily (see the header).
      if (s > m + SLACK) {
        let alpha = exp2(m - s);
        l *= alpha;
        rescale(alpha);
        m = s;
      }
      let p = select(0.0, exp2(s - m), ok);
      l += p;
      accumulate(p, j * RS);
    }
  }

  if (row >= params.tq) { return; }
  let inv = 1.0 / l;
  let oBase = params.o_off + b * params.o_b + h * params.o_h + row * params.o_t;
  store16(o0 * inv, oBase, col0, lim);
#if B2
  store16(o1 * inv, oBase, col0 + 16u, lim);
#endif
#if B3
  store16(o2 * inv, oBase, col0 + 32u, lim);
#endif
#if B4
  store16(o3 * inv, oBase, col0 + 48u, lim);
#endif
#if B5
  store16(o4 * inv, oBase, col0 + 64u, lim);
#endif
}
