// C = alpha * op(A) . op(B) (+ bias[n]): register-blocked tiled GEMM (2-D block tiling as in siboehm's
// SGEMM kernels 5/6 and the wgpu-mm / gpu.cpp WGSL ports, research/perf_anchors.md §1).
// A workgroup of WG_X x WG_Y threads computes a BM x BN tile of C (BM = 4*RB*WG_Y, BN = 4*RB*WG_X);
// each thread keeps RB x RB blocks of 4x4 f32 accumulators in registers (BLOCK8: RB = 2, 8x8 outputs).
// Per K-step of BK both tiles are staged in workgroup memory in one layout, As[k][m] and Bs[k][n]
// (vec4 along m / n), whatever the transposes: per k a thread reads RB vec4 of A and RB of B and does
// 4*RB*RB vec4 FMAs. Transposed operands are re-laid-out on the way into workgroup memory, so the
// inner loop is the same for all four transpose combinations. f16 storage converts on load/store.
// Global loads are vec4 only where the op proved alignment (VEC_A / VEC_B: the operand's contiguous
// dimension is a multiple of 4), else scalar; every load and store is guarded: any M, N, K works.
// SPLIT (split-K, for thin outputs with a long K on GPUs): slice s = wid.z % splits sums K in
// [s*kSplit, (s+1)*kSplit) into an f32 partial slab; the REDUCE variant sums the slabs into C.
// MATH_F16 (f16 storage only, opt-in: GpuContext.f16Math): the tiles are staged in workgroup memory as
// f16 (half the bytes per load) and the products are multiplied and summed in f16 in short runs
// (F16_RUN), each run then added to the f32 accumulators. GPUs with double-rate f16 run the inner
// FMAs twice as fast; a run's error (~√F16_RUN·2⁻¹¹ relative) is of the order of the f16 storage
// rounding the path already has. BK is a multiple of 4 (TileConfig), so the runs tile it exactly.
// LORA (issue 15 point 3, an unfolded LoRA in the same dispatch as its layer): C += (A·Dᵀ)·Uᵀ with
// D [rank, K] and U [N, rank], rank ≤ 16, A not transposed. While the K loop stages A's tile, it also
// stages D's and each of the first BM threads sums its tile row's rank values t = A·Dᵀ (4 vec4
// accumulators); after the loop they go to workgroup memory and the epilogue adds Σ_j t[m, j]·U[n, j].
// Each column tile recomputes t for its rows: rank/BN more FMAs (16/64 at most). Not with SPLIT.
#param DTYPE
#param CTYPE
#param BIAS_AT
#param RES_AT
#param C_AT
#param LD_AT
#param LU_AT
#if DTYPE == f16
enable f16;
#endif
#if MATH_F16
alias MT = f16; // the staged tiles' and the inner products' type
// Products summed in f16 before each f32 add: runs of 4 keep the whole-pipeline goldens within the f16
// path's 1e-2 (Euler's image 9.0e-3); runs of a whole 32-wide K tile reached 1.4e-2
// (tests/gpu/golden-f16-math.f16.gpu.test.ts).
const F16_RUN = 4u;
#else
alias MT = f32;
#endif

struct Params {
  M: u32,
  N: u32,
  K: u32,
  strideA: u32, // elements between batch matrices of A; 0 = broadcast
  strideB: u32,
  batchBase: u32, // first batch of this dispatch
  kSplit: u32, // K elements per split slice, a multiple of BK (= K rounded up when not split)
  splits: u32,
  alpha: f32,
  rank: u32, // LORA: the low-rank term's rank (0 otherwise)
}

@group(0) @binding(0) var<uniform> params: Params;
#if REDUCE
@group(0) @binding(1) var<storage, read> part: array<f32>;
#if BIAS
@group(0) @binding({{BIAS_AT}}) var<storage, read> bias: array<{{DTYPE}}>;
#endif
#if RESIDUAL
@group(0) @binding({{RES_AT}}) var<storage, read> res: array<{{DTYPE}}>;
#endif
@group(0) @binding({{C_AT}}) var<storage, read_write> c: array<{{DTYPE}}>;
#else
#if VEC_A
@group(0) @binding(1) var<storage, read> a: array<vec4<{{DTYPE}}>>;
#else
@group(0) @binding(1) var<storage, read> a: array<{{DTYPE}}>;
#endif
#if PACKED_B
// B is a packed-f16 weight (devices without shader-f16, DESIGN.md "GPUs as Chrome offers them"): two
// f16 values per u32 word, element i in half (i & 1) of word i >> 1 (little-endian, as the file's f16
// bytes were written). unpack2x16float is core WGSL; the math stays f32.
#if VEC_B
@group(0) @binding(2) var<storage, read> b: array<vec2<u32>>;
fn loadB4(i4: u32) -> vec4<f32> { let w = b[i4]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
#else
@group(0) @binding(2) var<storage, read> b: array<u32>;
fn loadB1(i: u32) -> f32 { return unpack2x16float(b[i >> 1u])[i & 1u]; }
#endif
#elif VEC_B
@group(0) @binding(2) var<storage, read> b: array<vec4<{{DTYPE}}>>;
fn loadB4(i4: u32) -> vec4<f32> { return vec4<f32>(b[i4]); }
#else
@group(0) @binding(2) var<storage, read> b: array<{{DTYPE}}>;
fn loadB1(i: u32) -> f32 { return f32(b[i]); }
#endif
#if SPLIT
@group(0) @binding(3) var<storage, read_write> c: array<{{CTYPE}}>;
#else
#if BIAS
@group(0) @binding({{BIAS_AT}}) var<storage, read> bias: array<{{DTYPE}}>;
#endif
#if RESIDUAL
// the residual epilogue (issue 15 point 3): C = alpha·A·B + bias + R in one dispatch instead of a
// matmul and an add; R has C's shape and dtype, added in f32 before the one cast to the storage type
@group(0) @binding({{RES_AT}}) var<storage, read> res: array<{{DTYPE}}>;
#endif
@group(0) @binding({{C_AT}}) var<storage, read_write> c: array<{{CTYPE}}>;
#if LORA
@group(0) @binding({{LD_AT}}) var<storage, read> lora_down: array<{{DTYPE}}>;
@group(0) @binding({{LU_AT}}) var<storage, read> lora_up: array<{{DTYPE}}>;
#endif
#endif
#endif

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 32u;
#if BLOCK8
const RB = 2u; // register blocks of 4x4 per thread along m and along n
#else
const RB = 1u;
#endif
override BM4 = RB * WG_Y; // tile height in vec4s
override BN4 = RB * WG_X;
override BM = 4u * BM4;
override BN = 4u * BN4;
override NT = WG_X * WG_Y;
#if SPLIT
const SPLIT_OUT = true;
#else
const SPLIT_OUT = false;
#endif

#if REDUCE
// One output element per invocation: sum of the split-K partials, then alpha, bias and the cast.
@compute @workgroup_size(NT)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let mn = params.M * params.N;
  let i = gid.x + gid.y * nwg.x * NT;
  if (i >= mn) { return; }
  let batch = params.batchBase + gid.z;
  var acc = 0.0;
  for (var s = 0u; s < params.splits; s++) { acc += part[(gid.z * params.splits + s) * mn + i]; }
  var v = acc * params.alpha;
#if BIAS
  v += f32(bias[i % params.N]);
#endif
#if RESIDUAL
  v += f32(res[batch * mn + i]);
#endif
  c[batch * mn + i] = {{DTYPE}}(v);
}
#else
var<workgroup> As: array<vec4<MT>, BK * BM4>;
var<workgroup> Bs: array<vec4<MT>, BK * BN4>;
#if LORA
// Ds[k·4 + j/4][j%4] = D[j, k0 + k] for ranks j < 16; Ts[m·4 + j/4][j%4] = t[m0 + m, j] after the K loop
var<workgroup> Ds: array<vec4<f32>, BK * 4u>;
var<workgroup> Ts: array<vec4<f32>, BM * 4u>;
var<private> tileRow0: u32;

// Stages D[0..rank, k0..kEnd) as Ds (zeros past the rank and past kEnd).
fn loadD(lid: u32, k0: u32, kEnd: u32) {
  for (var i = lid; i < BK * 16u; i += NT) {
    let k = i % BK; let j = i / BK;
    var v = 0.0;
    if (j < params.rank && k0 + k < kEnd) { v = f32(lora_down[j * params.K + k0 + k]); }
    Ds[k * 4u + j / 4u][j % 4u] = v;
  }
}

// Σ_j t[m, j]·U[n + q, j] for the columns n.. n+3 of row m (m in this tile).
fn loraTerm(m: u32, n: u32) -> vec4<f32> {
  let N = params.N;
  let R = params.rank;
  var out = vec4<f32>(0.0);
  for (var j4 = 0u; j4 * 4u < R; j4++) {
    let t = Ts[(m - tileRow0) * 4u + j4];
    for (var q = 0u; q < 4u; q++) {
      let row = min(n + q, N - 1u) * R;
      var u = vec4<f32>(0.0);
      for (var i = 0u; i < 4u; i++) {
        let j = j4 * 4u + i;
        u[i] = select(0.0, f32(lora_up[row + min(j, R - 1u)]), j < R);
      }
      out[q] += dot(t, u);
    }
  }
  return out;
}
#endif

// Stages op(A)[m0.., k0..kEnd) as As[k][m]. Consecutive threads walk A's contiguous dimension.
fn loadA(lid: u32, base: u32, m0: u32, k0: u32, kEnd: u32) {
  let M = params.M;
  let K = params.K;
#if VEC_A
  for (var i = lid; i < BK * BM4; i += NT) {
#if TRANS_A
    let mq = i % BM4; let k = i / BM4; // A is [K, M]: a vec4 of 4 rows m, stored as is
    let gm = m0 + mq * 4u; let gk = k0 + k;
    var v = vec4<f32>(0.0);
    if (gm < M && gk < kEnd) { v = vec4<f32>(a[(base + gk * M + gm) / 4u]); }
    As[k * BM4 + mq] = vec4<MT>(v);
#else
    let kq = i % (BK / 4u); let m = i / (BK / 4u); // A is [M, K]: a vec4 along k, transposed here
    let gm = m0 + m; let gk = k0 + kq * 4u;
    var v = vec4<f32>(0.0);
    if (gm < M && gk < kEnd) { v = vec4<f32>(a[(base + gm * K + gk) / 4u]); }
    let at = kq * 4u * BM4 + m / 4u; let r = m % 4u;
    As[at][r] = MT(v.x); As[at + BM4][r] = MT(v.y); As[at + 2u * BM4][r] = MT(v.z); As[at + 3u * BM4][r] = MT(v.w);
#endif
  }
#else
  for (var i = lid; i < BK * BM; i += NT) {
#if TRANS_A
    let m = i % BM; let k = i / BM;
    let at = (k0 + k) * M + m0 + m;
#else
    let k = i % BK; let m = i / BK;
    let at = (m0 + m) * K + k0 + k;
#endif
    var v = 0.0;
    if (m0 + m < M && k0 + k < kEnd) { v = f32(a[base + at]); }
    As[k * BM4 + m / 4u][m % 4u] = MT(v);
  }
#endif
}

// Stages op(B)[k0..kEnd, n0..) as Bs[k][n].
fn loadB(lid: u32, base: u32, n0: u32, k0: u32, kEnd: u32) {
  let N = params.N;
  let K = params.K;
#if VEC_B
  for (var i = lid; i < BK * BN4; i += NT) {
#if TRANS_B
    let kq = i % (BK / 4u); let n = i / (BK / 4u); // B is [N, K] (Linear weight): transposed here
    let gn = n0 + n; let gk = k0 + kq * 4u;
    var v = vec4<f32>(0.0);
    if (gn < N && gk < kEnd) { v = loadB4((base + gn * K + gk) / 4u); }
    let at = kq * 4u * BN4 + n / 4u; let r = n % 4u;
    Bs[at][r] = MT(v.x); Bs[at + BN4][r] = MT(v.y); Bs[at + 2u * BN4][r] = MT(v.z); Bs[at + 3u * BN4][r] = MT(v.w);
#else
    let nq = i % BN4; let k = i / BN4; // B is [K, N]: a vec4 of 4 columns, stored as is
    let gn = n0 + nq * 4u; let gk = k0 + k;
    var v = vec4<f32>(0.0);
    if (gn < N && gk < kEnd) { v = loadB4((base + gk * N + gn) / 4u); }
    Bs[k * BN4 + nq] = vec4<MT>(v);
#endif
  }
#else
  for (var i = lid; i < BK * BN; i += NT) {
#if TRANS_B
    let k = i % BK; let n = i / BK;
    let at = (n0 + n) * K + k0 + k;
#else
    let n = i % BN; let k = i / BN;
    let at = (k0 + k) * N + n0 + n;
#endif
    var v = 0.0;
    if (n0 + n < N && k0 + k < kEnd) { v = loadB1(base + at); }
    Bs[k * BN4 + n / 4u][n % 4u] = MT(v);
  }
#endif
}

// The epilogue of one accumulator row: SPLIT writes raw f32 partial sums into slab wid.z; otherwise
// alpha, bias and the cast to the storage type. Columns n.. n+3 (guarded one by one off VEC_C).
fn store(slab: u32, m: u32, n: u32, acc: vec4<f32>) {
  let M = params.M;
  let N = params.N;
  if (m >= M || n >= N) { return; }
  var v = acc;
#if !SPLIT
  v *= params.alpha;
#if BIAS
  v += vec4<f32>(f32(bias[n]), f32(bias[min(n + 1u, N - 1u)]), f32(bias[min(n + 2u, N - 1u)]),
                 f32(bias[min(n + 3u, N - 1u)]));
#endif
#endif
  let o = slab * M * N + m * N + n;
#if LORA
  v += loraTerm(m, n);
#endif
#if RESIDUAL
  for (var q = 0u; q < min(4u, N - n); q++) { v[q] += f32(res[o + q]); }
#endif
#if VEC_C
  c[o / 4u] = {{CTYPE}}(v);
#else
  for (var q = 0u; q < min(4u, N - n); q++) { c[o + q] = {{CTYPE}}(v[q]); }
#endif
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * BN;
  let m0 = wid.y * BM;
  let batch = params.batchBase + wid.z / params.splits;
  let kBegin = (wid.z % params.splits) * params.kSplit;
  let kEnd = min(params.K, kBegin + params.kSplit);
  let tx = lid3.x;
  let ty = lid3.y;

  // Named vec4 accumulators, not an array: CPU drivers (SwiftShader) keep a dynamically indexed
  // private array in memory. cR holds tile row (ty*4 + R), columns (tx*4 ..+3); with BLOCK8 the
  // second row block (ty + WG_Y)*4 + R is in eR, and the second column block (tx + WG_X)*4 in dR/fR.
  // Interleaving the blocks by the workgroup size keeps a warp's workgroup-memory reads contiguous.
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
#if BLOCK8
  var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
  var e0 = vec4<f32>(0.0); var e1 = vec4<f32>(0.0); var e2 = vec4<f32>(0.0); var e3 = vec4<f32>(0.0);
  var f0 = vec4<f32>(0.0); var f1 = vec4<f32>(0.0); var f2 = vec4<f32>(0.0); var f3 = vec4<f32>(0.0);
#endif
#if LORA
  // this thread's tile row lid (when lid < BM): t = A·Dᵀ for ranks 0-3, 4-7, 8-11, 12-15
  var t0 = vec4<f32>(0.0); var t1 = vec4<f32>(0.0); var t2 = vec4<f32>(0.0); var t3 = vec4<f32>(0.0);
#endif
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    loadA(lid, batch * params.strideA, m0, k0, kEnd);
    loadB(lid, batch * params.strideB, n0, k0, kEnd);
#if LORA
    loadD(lid, k0, kEnd);
#endif
    workgroupBarrier();
#if LORA
    if (lid < BM) {
      for (var k = 0u; k < BK; k++) {
        let av = f32(As[k * BM4 + lid / 4u][lid % 4u]);
        t0 += av * Ds[k * 4u];
        if (params.rank > 4u) { t1 += av * Ds[k * 4u + 1u]; }
        if (params.rank > 8u) { t2 += av * Ds[k * 4u + 2u]; }
        if (params.rank > 12u) { t3 += av * Ds[k * 4u + 3u]; }
      }
    }
#endif
#if MATH_F16
    // f16 sums of F16_RUN products at a time, each run added to the f32 accumulators
    for (var k8 = 0u; k8 < BK; k8 += F16_RUN) {
    var h0 = vec4<f16>(0.0); var h1 = vec4<f16>(0.0); var h2 = vec4<f16>(0.0); var h3 = vec4<f16>(0.0);
#if BLOCK8
    var i0 = vec4<f16>(0.0); var i1 = vec4<f16>(0.0); var i2 = vec4<f16>(0.0); var i3 = vec4<f16>(0.0);
    var j0 = vec4<f16>(0.0); var j1 = vec4<f16>(0.0); var j2 = vec4<f16>(0.0); var j3 = vec4<f16>(0.0);
    var l0 = vec4<f16>(0.0); var l1 = vec4<f16>(0.0); var l2 = vec4<f16>(0.0); var l3 = vec4<f16>(0.0);
#endif
    for (var k = k8; k < k8 + F16_RUN; k++) {
      let a0 = As[k * BM4 + ty];
      let b0 = Bs[k * BN4 + tx];
      h0 += a0.x * b0; h1 += a0.y * b0; h2 += a0.z * b0; h3 += a0.w * b0;
#if BLOCK8
      let a1 = As[k * BM4 + ty + WG_Y];
      let b1 = Bs[k * BN4 + tx + WG_X];
      i0 += a0.x * b1; i1 += a0.y * b1; i2 += a0.z * b1; i3 += a0.w * b1;
      j0 += a1.x * b0; j1 += a1.y * b0; j2 += a1.z * b0; j3 += a1.w * b0;
      l0 += a1.x * b1; l1 += a1.y * b1; l2 += a1.z * b1; l3 += a1.w * b1;
#endif
    }
    c0 += vec4<f32>(h0); c1 += vec4<f32>(h1); c2 += vec4<f32>(h2); c3 += vec4<f32>(h3);
#if BLOCK8
    d0 += vec4<f32>(i0); d1 += vec4<f32>(i1); d2 += vec4<f32>(i2); d3 += vec4<f32>(i3);
    e0 += vec4<f32>(j0); e1 += vec4<f32>(j1); e2 += vec4<f32>(j2); e3 += vec4<f32>(j3);
    f0 += vec4<f32>(l0); f1 += vec4<f32>(l1); f2 += vec4<f32>(l2); f3 += vec4<f32>(l3);
#endif
    }
#else
    for (var k = 0u; k < BK; k++) {
      let a0 = As[k * BM4 + ty];
      let b0 = Bs[k * BN4 + tx];
      c0 += a0.x * b0; c1 += a0.y * b0; c2 += a0.z * b0; c3 += a0.w * b0;
#if BLOCK8
      let a1 = As[k * BM4 + ty + WG_Y];
      let b1 = Bs[k * BN4 + tx + WG_X];
      d0 += a0.x * b1; d1 += a0.y * b1; d2 += a0.z * b1; d3 += a0.w * b1;
      e0 += a1.x * b0; e1 += a1.y * b0; e2 += a1.z * b0; e3 += a1.w * b0;
      f0 += a1.x * b1; f1 += a1.y * b1; f2 += a1.z * b1; f3 += a1.w * b1;
#endif
    }
#endif
    workgroupBarrier();
  }

#if LORA
  if (lid < BM) { Ts[lid * 4u] = t0; Ts[lid * 4u + 1u] = t1; Ts[lid * 4u + 2u] = t2; Ts[lid * 4u + 3u] = t3; }
  tileRow0 = m0;
  workgroupBarrier();
#endif
  let slab = select(batch, wid.z, SPLIT_OUT);
  let m = m0 + ty * 4u;
  let n = n0 + tx * 4u;
  store(slab, m, n, c0); store(slab, m + 1u, n, c1); store(slab, m + 2u, n, c2); store(slab, m + 3u, n, c3);
#if BLOCK8
  let mb = m + 4u * WG_Y;
  let nb = n + 4u * WG_X;
  store(slab, m, nb, d0); store(slab, m + 1u, nb, d1); store(slab, m + 2u, nb, d2); store(slab, m + 3u, nb, d3);
  store(slab, mb, n, e0); store(slab, mb + 1u, n, e1); store(slab, mb + 2u, n, e2); store(slab, mb + 3u, n, e3);
  store(slab, mb, nb, f0); store(slab, mb + 1u, nb, f1); store(slab, mb + 2u, nb, f2); store(slab, mb + 3u, nb, f3);
#endif
}
#endif
