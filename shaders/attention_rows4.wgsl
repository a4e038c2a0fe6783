// Fused attention, CPU-adapter variant (SwiftShader): the math, bindings and uniforms of attention.wgsl
// (read its header first), but each invocation owns 4 query rows, and all work is 4×4 matrix products:
// scores S (column r = row r, a vec4 over 4 keys) += Kᵀ-slice · Q-slice and O-slice += V-slice · P, so
// one SPIR-V instruction does 64 multiply-adds and each K/V element read from workgroup memory serves
// 4 rows. On SwiftShader a dynamically indexed read is a per-lane gather and each SPIR-V instruction
// costs a round trip through memory, so this runs ~2.5× faster there; on GPUs its 512 registers per
// invocation (D = 64) would spill, so GPUs use attention.wgsl. D <= 64 (NB 16-column blocks, B2..B4).
// The K tile is staged transposed per group of 4 keys (a vec4 over keys per column) so that the score
// product needs no transpose. exp2 is a polynomial (exp2v): SwiftShader's is one libm call per lane.
#param DTYPE
#param NB
#param BK
#if DTYPE == f16
enable f16;
#endif

struct Params {
  heads: u32, tq: u32, tk: u32, dim: u32,
  chunks: u32,
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

// Invocations per workgroup; each owns 4 consecutive query rows.
override WG: u32 = 16u;
const RS = {{NB}}u * 4u;   // vec4s per key (V tile) = column slices
const GS = RS * 4u;        // vec4s per group of 4 keys (transposed K tile)
const TILE = {{BK}}u * RS;
var<workgroup> kt: array<vec4<f32>, TILE>;
var<workgroup> vt: array<vec4<f32>, TILE>;
const MASKED = -1e30;
const SLACK = 8.0;
// Slice c of Q / O: column r is row r's columns 4c..4c+3. Indexed by literals in the key loop (header).
var<private> Q: array<mat4x4<f32>, 16>;
var<private> O: array<mat4x4<f32>, 16>;

// 2^x: 2^round(x) from exponent bits times a degree-6 fit of 2^f on [-1/2, 1/2] (relative error
// < 1e-7). Arguments under -126 give ~1e-38, not 0: harmless, each row's sum has a term >= 2^-SLACK.
fn exp2v(x: vec4<f32>) -> vec4<f32> {
  let xc = clamp(x, vec4<f32>(-126.0), vec4<f32>(126.0));
  let n = round(xc);
  let f = xc - n;
  var p = f * 1.5337577e-4 + 1.3399860e-3;
  p = p * f + 9.6185195e-3;
  p = p * f + 5.5503290e-2;
  p = p * f + 2.4022647e-1;
  p = p * f + 6.9314721e-1;
  p = p * f + 1.0;
  return p * bitcast<vec4<f32>>((vec4<i32>(n) + 127) << vec4<u32>(23u));
}

// Columns d..d+3 of the row at `base`; columns past dim read as 0 (clamped index, value dropped).
fn cols(d: u32) -> vec4<u32> { return vec4<u32>(d) + vec4<u32>(0u, 1u, 2u, 3u); }
fn at4(base: u32, d: u32) -> vec4<u32> { return min(cols(d), vec4<u32>(params.dim - 1u)) + vec4<u32>(base); }
fn ldq(base: u32, d: u32) -> vec4<f32> {
  let i = at4(base, d);
  return select(vec4<f32>(0.0), vec4<f32>(f32(qs[i.x]), f32(qs[i.y]), f32(qs[i.z]), f32(qs[i.w])), cols(d) < vec4<u32>(params.dim));
}
fn ldv(base: u32, d: u32) -> vec4<f32> {
  let i = at4(base, d);
  return select(vec4<f32>(0.0), vec4<f32>(f32(vg[i.x]), f32(vg[i.y]), f32(vg[i.z]), f32(vg[i.w])), cols(d) < vec4<u32>(params.dim));
}

// Transposed K slice of key group at vec4 `a`: columns = 4 head columns, each a vec4 over the 4 keys.
fn kT(a: u32) -> mat4x4<f32> { return mat4x4<f32>(kt[a], kt[a + 1u], kt[a + 2u], kt[a + 3u]); }
// V slice: columns = the 4 keys of the group starting at vec4 `a`, each a vec4 over 4 head columns.
fn vS(a: u32) -> mat4x4<f32> { return mat4x4<f32>(vt[a], vt[a + RS], vt[a + 2u * RS], vt[a + 3u * RS]); }

fn scores(a: u32) -> mat4x4<f32> {
  var s = kT(a) * Q[0] + kT(a + 4u) * Q[1] + kT(a + 8u) * Q[2] + kT(a + 12u) * Q[3];
#if B2
  s += kT(a + 16u) * Q[4] + kT(a + 20u) * Q[5] + kT(a + 24u) * Q[6] + kT(a + 28u) * Q[7];
#endif
#if B3
  s += kT(a + 32u) * Q[8] + kT(a + 36u) * Q[9] + kT(a + 40u) * Q[10] + kT(a + 44u) * Q[11];
#endif
#if B4
  s += kT(a + 48u) * Q[12] + kT(a + 52u) * Q[13] + kT(a + 56u) * Q[14] + kT(a + 60u) * Q[15];
#endif
  return s;
}
fn accumulate(p: mat4x4<f32>, a: u32) {
  O[0] += vS(a) * p; O[1] += vS(a + 1u) * p; O[2] += vS(a + 2u) * p; O[3] += vS(a + 3u) * p;
#if B2
  O[4] += vS(a + 4u) * p; O[5] += vS(a + 5u) * p; O[6] += vS(a + 6u) * p; O[7] += vS(a + 7u) * p;
#endif
#if B3
  O[8] += vS(a + 8u) * p; O[9] += vS(a + 9u) * p; O[10] += vS(a + 10u) * p; O[11] += vS(a + 11u) * p;
#endif
#if B4
  O[12] += vS(a + 12u) * p; O[13] += vS(a + 13u) * p; O[14] += vS(a + 14u) * p; O[15] += vS(a + 15u) * p;
#endif
}
fn rowMax(v: vec4<f32>) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }

// Q slice c from the 4 rows at q offsets qb (scaled); the O slices go back to the rows at ob (rows
// past tq and columns past dim skipped). Q and O are indexed by literals in the key loop.
fn qS(qb: vec4<u32>, d: u32) -> mat4x4<f32> {
  return mat4x4<f32>(ldq(qb.x, d), ldq(qb.y, d), ldq(qb.z, d), ldq(qb.w, d)) * params.scale;
}
fn loadQ(qb: vec4<u32>) {
  for (var c = 0u; c < RS; c++) { Q[c] = qS(qb, 4u * c); }
}
// Scales row r's columns of every O slice by a[r]. A loop, not literal code: SwiftShader runs a branch
// that no lane takes with all lanes masked off, and a loop ends at once when none is active.
fn sc(o: mat4x4<f32>, a: vec4<f32>) -> mat4x4<f32> { return mat4x4<f32>(o[0] * a.x, o[1] * a.y, o[2] * a.z, o[3] * a.w); }
fn rescale(a: vec4<f32>) {
  for (var c = 0u; c < RS; c++) { O[c] = sc(O[c], a); }
}
// Row r's columns d..d+3 of slice o, times inv[r] (the 1/l of the softmax).
fn st(o: mat4x4<f32>, ob: vec4<u32>, rows: vec4<u32>, inv: vec4<f32>, d: u32) {
  for (var r = 0u; r < 4u; r++) {
    for (var i = 0u; i < 4u; i++) {
      if (rows[r] < params.tq && d + i < params.dim) { og[ob[r] + d + i] = {{DTYPE}}(o[r][i] * inv[r]); }
    }
  }
}
fn storeO(ob: vec4<u32>, rows: vec4<u32>, inv: vec4<f32>) {
  st(O[0], ob, rows, inv, 0u); st(O[1], ob, rows, inv, 4u); st(O[2], ob, rows, inv, 8u); st(O[3], ob, rows, inv, 12u);
#if B2
  st(O[4], ob, rows, inv, 16u); st(O[5], ob, rows, inv, 20u); st(O[6], ob, rows, inv, 24u); st(O[7], ob, rows, inv, 28u);
#endif
#if B3
  st(O[8], ob, rows, inv, 32u); st(O[9], ob, rows, inv, 36u); st(O[10], ob, rows, inv, 40u); st(O[11], ob, rows, inv, 44u);
#endif
#if B4
  st(O[12], ob, rows, inv, 48u); st(O[13], ob, rows, inv, 52u); st(O[14], ob, rows, inv, 56u); st(O[15], ob, rows, inv, 60u);
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row0 = (wid.x * WG + lid) * 4u;
  let rows = vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u);
  let b = wid.y / params.heads;
  let h = wid.y % params.heads;
  let qb = vec4<u32>(params.q_off + b * params.q_b + h * params.q_h) + min(rows, vec4<u32>(params.tq - 1u)) * params.q_t;
  let kBase = params.k_off + b * params.k_b + h * params.k_h;
  let vBase = params.v_off + b * params.v_b + h * params.v_h;
  loadQ(qb);
  var m = vec4<f32>(MASKED);
  var l = vec4<f32>(0.0);
  var kEnd = params.tk;
#if CAUSAL
  kEnd = min(kEnd, (wid.x + 1u) * WG * 4u);
#endif
  for (var k0 = 0u; k0 < kEnd; k0 += {{BK}}u) {
    workgroupBarrier();
    for (var e = lid; e < TILE; e += WG) {
      // K, transposed: vec4 e = (group g, head column d) over keys 4g..4g+3.
      let g = e / (RS * 4u);
      let d = e % (RS * 4u);
      let keys = vec4<u32>(k0 + 4u * g) + vec4<u32>(0u, 1u, 2u, 3u);
      let ka = vec4<u32>(kBase + min(d, params.dim - 1u)) + min(keys, vec4<u32>(params.tk - 1u)) * params.k_t;
      let kv = vec4<f32>(f32(kg[ka.x]), f32(kg[ka.y]), f32(kg[ka.z]), f32(kg[ka.w]));
      kt[e] = select(vec4<f32>(0.0), kv, (keys < vec4<u32>(params.tk)) & vec4<bool>(d < params.dim));
      let key = k0 + e / RS;
      vt[e] = select(vec4<f32>(0.0), ldv(vBase + min(key, params.tk - 1u) * params.v_t, (e % RS) * 4u), key < params.tk);
    }
    workgroupBarrier();
    let gEnd = min({{BK}}u, kEnd - k0 + 3u) / 4u;
    for (var g = 0u; g < gEnd; g++) {
      let keys = vec4<u32>(k0 + 4u * g) + vec4<u32>(0u, 1u, 2u, 3u);
      let inK = keys < vec4<u32>(params.tk);
      var s = scores(g * GS);
#if CAUSAL
      let ok = mat4x4<f32>(select(vec4<f32>(0.0), vec4<f32>(1.0), inK & (keys <= vec4<u32>(rows.x))),
                           select(vec4<f32>(0.0), vec4<f32>(1.0), inK & (keys <= vec4<u32>(rows.y))),
                           select(vec4<f32>(0.0), vec4<f32>(1.0), inK & (keys <= vec4<u32>(rows.z))),
                           select(vec4<f32>(0.0), vec4<f32>(1.0), inK & (keys <= vec4<u32>(rows.w))));
#else
      let okc = select(vec4<f32>(0.0), vec4<f32>(1.0), inK);
      let ok = mat4x4<f32>(okc, okc, okc, okc);
#endif
      let mk = vec4<f32>(MASKED);
      let z = vec4<f32>(0.0);
      s = mat4x4<f32>(select(mk, s[0], ok[0] > z), select(mk, s[1], ok[1] > z), select(mk, s[2], ok[2] > z), select(mk, s[3], ok[3] > z));
      let mx = vec4<f32>(rowMax(s[0]), rowMax(s[1]), rowMax(s[2]), rowMax(s[3]));
      if (any(mx > m + SLACK)) {
        // Lazy rescale (attention.wgsl header); all 4 rows move to max(m, mx) together.
        let mn = max(m, mx);
        let alpha = exp2v(m - mn);
        l *= alpha;
        rescale(alpha);
        m = mn;
      }
      let p = mat4x4<f32>(exp2v(s[0] - m.x) * ok[0], exp2v(s[1] - m.y) * ok[1], exp2v(s[2] - m.z) * ok[2], exp2v(s[3] - m.w) * ok[3]);
      l += vec4<f32>(1.0) * p;
      accumulate(p, 4u * g * RS);
    }
  }
  let ob = vec4<u32>(params.o_off + b * params.o_b + h * params.o_h) + rows * params.o_t;
  storeO(ob, rows, vec4<f32>(1.0) / l);
}
