// GroupNorm over NCHW (torch.nn.GroupNorm): per (n, group) mean and biased variance over the group's
// Cg·H·W elements, which are contiguous in NCHW; then y = (x − mean)·rsqrt(var + eps)·γ[c] + β[c],
// optionally followed by SiLU (y·sigmoid(y), the ResnetBlock2D / VAE pattern).
// Two entry points, so a large group (40 ch × 128² in SDXL) is spread over many workgroups:
//   stats: one workgroup per (chunk, n·G) writes the chunk's (count, mean, M2);
//   apply: one workgroup per (chunk, n·G) combines all chunks of its group, then normalises its chunk.
// Statistics are stable without a second pass over the data: each thread sums x − shift and (x − shift)²
// over its 64 elements of the chunk (shift = the group's first element, so the sums carry no large
// mean), turns them into (count, mean, M2), and the partial results are merged with Chan, Golub &
// LeVeque's pairwise update (1979): n = na+nb, δ = mb−ma, m = ma + δ·nb/n, M2 = M2a + M2b + δ²·na·nb/n.
// Bands (src/ops/norm.ts groupNormBands): one tensor held as several horizontal bands, each its own
// binding, normalised with the statistics of the whole tensor (torch GroupNorm over the full H·W). Each
// band's stats write its chunks at `base` in a row of `stride` chunks per (n, group), each with the
// shift it was taken about; apply re-expresses every chunk's mean about the row's first shift (band 0's
// first element) before merging, and normalises x − that shift, so the bands keep the one-tensor
// precision (an absolute mean of 100 would cost ~4e-6 of the result in f32). One band is the ordinary
// op: base 0, stride = chunks, every shift the same, so the re-expression adds exactly 0.
// SUBGROUPS (adapters with the `subgroups` feature): the merge of the invocations' partial results runs
// as a butterfly of subgroup shuffles (no workgroup memory, no barrier inside a subgroup), then one
// barrier and a scan of the subgroup leaders' results; see reduce() below.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif
#if SUBGROUPS
enable subgroups;
#endif

struct Params {
  hw: u32,      // spatial size H·W
  cg: u32,      // channels per group
  gsize: u32,   // elements per group, cg·hw
  groups: u32,
  chunk: u32,   // elements per workgroup chunk
  chunks: u32,  // chunks per group
  eps: f32,
  base: u32,     // this tensor's first chunk in a partial row
  stride: u32,   // chunks per (n, group) row of `partial`: all bands' chunks
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
// (count, mean − shift, M2, shift) per (n·G, chunk)
@group(0) @binding(2) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> gamma: array<{{DTYPE}}>;
@group(0) @binding(4) var<storage, read> beta: array<{{DTYPE}}>;
@group(0) @binding(5) var<storage, read_write> out: array<{{DTYPE}}>;

override WG: u32 = 64u; // a power of two, at least 8

var<workgroup> red: array<vec3<f32>, WG>;
#if !SUBGROUPS
var<workgroup> red8: array<vec3<f32>, 8>;
#endif

fn merge(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  let n = a.x + b.x;
  if (n == 0.0) { return a; }
  let d = b.y - a.y;
  let f = b.x / n;
  return vec3<f32>(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}

#if SUBGROUPS
// Merges every invocation's (count, mean, M2) and returns the same total to all of them.
// 1. A butterfly of Chan merges over subgroupShuffleXor (log2 of the subgroup size steps, no barrier).
//    Lanes may end with totals that differ in the last bit (the merge is not commutative in rounding),
//    so only one lane per subgroup (its lowest invocation index, found with subgroupMin) keeps its total.
// 2. The leaders write at their own index, the others write count 0 (a merge skips it), and after one
//    barrier every invocation merges the WG slots in index order: the same result in every invocation
//    and on every run, with no assumption on how invocations are grouped into subgroups.
fn reduce(lid: u32, v: vec3<f32>, sg_size: u32) -> vec3<f32> {
  var r = v;
  // a subgroup wider than the workgroup holds all of it: pair lanes only within the workgroup's size
  let width = min(sg_size, WG);
  for (var o = 1u; o < width; o = o << 1u) {
    r = merge(r, subgroupShuffleXor(r, o));
  }
  red[lid] = select(vec3<f32>(0.0), r, subgroupMin(lid) == lid);
  workgroupBarrier();
  var t = red[0];
  for (var j = 1u; j < WG; j++) { t = merge(t, red[j]); }
  return t;
}
#else
// Merges every invocation's (count, mean, M2) and returns the total to all of them. Two barriers
// instead of a log2(WG)-deep tree: barriers are what CPU adapters pay most for (SwiftShader switches
// every 4-lane subgroup at each one). Eight invocations merge WG/8 entries each, then every invocation
// merges those eight itself. Call it once per invocation (red8 is not guarded for reuse).
fn reduce(lid: u32, v: vec3<f32>, sg_size: u32) -> vec3<f32> {
  red[lid] = v;
  workgroupBarrier();
  if (lid < 8u) {
    let per = WG / 8u;
    var a = red[lid * per];
    for (var j = 1u; j < per; j++) { a = merge(a, red[lid * per + j]); }
    red8[lid] = a;
  }
  workgroupBarrier();
  var r = red8[0];
  for (var j = 1u; j < 8u; j++) { r = merge(r, red8[j]); }
  return r;
}
#endif

fn bounds(chunkIndex: u32, ng: u32) -> vec2<u32> {
  let start = ng * params.gsize + chunkIndex * params.chunk;
  return vec2<u32>(start, min(start + params.chunk, (ng + 1u) * params.gsize));
}

@compute @workgroup_size(WG)
fn stats(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
#if SUBGROUPS
         @builtin(subgroup_size) sg_size: u32) {
#else
         ) {
  let sg_size = 1u; // unused by the portable reduce
#endif
  let b = bounds(wg.x, wg.y);
  let shift = f32(x[wg.y * params.gsize]);
  var s = 0.0;
  var q = 0.0;
  var n = 0.0;
  for (var i = b.x + lid; i < b.y; i += WG) {
    let d = f32(x[i]) - shift;
    s += d;
    q += d * d;
    n += 1.0;
  }
  let mean = select(0.0, s / n, n > 0.0);
  let r = reduce(lid, vec3<f32>(n, mean, max(q - s * mean, 0.0)), sg_size);
  if (lid == 0u) { partial[wg.y * params.stride + params.base + wg.x] = vec4<f32>(r, shift); }
}

@compute @workgroup_size(WG)
fn apply(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>,
#if SUBGROUPS
         @builtin(subgroup_size) sg_size: u32) {
#else
         ) {
  let sg_size = 1u; // unused by the portable reduce
#endif
  let ng = wg.y;
  var acc = vec3<f32>(0.0);
  let shift = partial[ng * params.stride].w;
  for (var j = lid; j < params.stride; j += WG) {
    let p = partial[ng * params.stride + j];
    acc = merge(acc, vec3<f32>(p.x, p.y + (p.w - shift), p.z));
  }
  let st = reduce(lid, acc, sg_size);
  // (x − shift) − mean′ rather than x − (shift + mean′): x − shift is exact (Sterbenz), so a large
  // common offset in the data costs no precision.
  let rstd = inverseSqrt(st.z / st.x + params.eps);
  let g = ng % params.groups;
  let b = bounds(wg.x, ng);
  for (var i = b.x + lid; i < b.y; i += WG) {
    let c = g * params.cg + (i - ng * params.gsize) / params.hw;
    var y = (f32(x[i]) - shift - st.y) * rstd * f32(gamma[c]) + f32(beta[c]);
#if SILU
    y = y / (1.0 + exp(-y));
#endif
    out[i] = {{DTYPE}}(y);
  }
}
