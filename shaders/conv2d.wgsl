// conv2d as an implicit GEMM over NCHW activations and PyTorch [Cout, Cin, kh, kw] weights.
//   GEMM rows    M = N·Hout·Wout (output pixels), columns = Cout, depth K = Cin·kh·kw.
// No im2col buffer: the A tile (K-slice × pixels) is gathered straight from x while it is staged in
// workgroup memory (the TF.js / ORT `conv2d_mm` scheme, research/perf_anchors.md §3). K is walked
// tap-major (for each (ky,kx), Cin in BK-slices), so a pixel's input offset and padding test are
// computed once per tap, and stepping Cin is one add of H·W.
// A T×T-thread workgroup computes a (8T pixels) × (8T couts) tile; each thread an 8×8 register block
// (pixel vec4 groups tx and tx+T × cout groups ty and ty+T), 16 vec4 f32 accumulators even for f16
// storage. Per K-row it reads 4 vec4 from workgroup memory for 64 FMAs.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  cin: u32, h: u32, w: u32,
  cout: u32, hout: u32, wout: u32,
  stride: u32, pad: u32, kh: u32, kw: u32,
  pad_top: u32, // zero rows above x (pad, or a band's own: a band of a taller image has no zero rows inside)
  m: u32,       // GEMM rows, batch·hout·wout
  mtiles: u32,  // row tiles of 8T
  bk: u32,      // K-slice depth staged per barrier pair
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<{{DTYPE}}>;
#if PACKED_W
// A packed-f16 weight (devices without shader-f16, DESIGN.md "GPUs as Chrome offers them"): element i
// is half (i & 1) of u32 word i >> 1; unpack2x16float is core WGSL, the math stays f32.
@group(0) @binding(2) var<storage, read> wt: array<u32>;
fn weightAt(i: u32) -> f32 { return unpack2x16float(wt[i >> 1u])[i & 1u]; }
#else
@group(0) @binding(2) var<storage, read> wt: array<{{DTYPE}}>;
fn weightAt(i: u32) -> f32 { return f32(wt[i]); }
#endif
@group(0) @binding(3) var<storage, read_write> out: array<{{DTYPE}}>;
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> bias: array<{{DTYPE}}>;
#endif
#if RESIDUAL
#if HAS_BIAS
@group(0) @binding(5) var<storage, read> residual: array<{{DTYPE}}>;
#else
@group(0) @binding(4) var<storage, read> residual: array<{{DTYPE}}>;
#endif
#endif

// Threads per side; the tile is 8T × 8T.
override T: u32 = 8u;

// tileA[k·2T + p]: pixels 4p..4p+3 of K-row k; tileB[k·2T + c]: couts 4c..4c+3 of K-row k.
// Sized 2T·bk vec4 (TILE_VEC4, set per pipeline by ops/conv2d.ts for the K-slice in use: WebGPU
// zero-fills workgroup memory at every workgroup's start, so unused rows cost). params.bk, a multiple
// of T and at most 256/T, is still a uniform: the loops over it have uniform trip counts on purpose:
// with constant ones, LLVM-based drivers (lavapipe) unroll them fully and took 10-40 s to compile one
// pipeline.
override TILE_VEC4: u32 = 512u;
var<workgroup> tileA: array<vec4<f32>, TILE_VEC4>;
var<workgroup> tileB: array<vec4<f32>, TILE_VEC4>;

// Four consecutive GEMM rows: liveness, image base offset in x, top-left input corner, output offset.
struct Pix { live: vec4<bool>, xbase: vec4<i32>, ih0: vec4<i32>, iw0: vec4<i32>, obase: vec4<u32> }

fn pixels(m0: u32) -> Pix {
  let m = vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u);
  let mm = min(m, vec4<u32>(params.m - 1u));
  let hwo = params.hout * params.wout;
  let img = mm / hwo;
  let p = mm % hwo;
  let s = i32(params.stride);
  let pad = i32(params.pad);
  return Pix(m < vec4<u32>(params.m), vec4<i32>(img * params.cin * params.h * params.w),
             vec4<i32>(p / params.wout) * s - i32(params.pad_top), vec4<i32>(p % params.wout) * s - pad,
             img * params.cout * hwo + p);
}

// Input offsets of tap (ky, kx) for four pixels; -1 marks zero padding (or a dead row).
fn tapOffsets(q: Pix, ky: i32, kx: i32) -> vec4<i32> {
  let ih = q.ih0 + ky;
  let iw = q.iw0 + kx;
  let h = vec4<i32>(i32(params.h));
  let w = vec4<i32>(i32(params.w));
  let inside = q.live & (ih >= vec4<i32>(0)) & (ih < h) & (iw >= vec4<i32>(0)) & (iw < w);
  return select(vec4<i32>(-1), q.xbase + ih * w + iw, inside);
}

// Four input values of channel offset `cofs`; padding reads element 0 and is zeroed by `select`, so
// every load is unconditional (no divergence on SIMD CPUs and GPUs alike).
fn gatherA(off: vec4<i32>, cofs: i32, ok: bool) -> vec4<f32> {
  let o = max(off, vec4<i32>(0)) + cofs;
  let v = vec4<f32>(f32(x[o.x]), f32(x[o.y]), f32(x[o.z]), f32(x[o.w]));
  return select(vec4<f32>(0.0), v, (off >= vec4<i32>(0)) & vec4<bool>(ok));
}

// Weights of four couts (from co0) at input channel ci and tap; out-of-range couts and ci are zero.
fn gatherB(co0: u32, ci: u32, tap: u32, kk: u32) -> vec4<f32> {
  let co = vec4<u32>(co0) + vec4<u32>(0u, 1u, 2u, 3u);
  let i = (min(co, vec4<u32>(params.cout - 1u)) * params.cin + min(ci, params.cin - 1u)) * kk + tap;
  let v = vec4<f32>(weightAt(i.x), weightAt(i.y), weightAt(i.z), weightAt(i.w));
  return select(vec4<f32>(0.0), v, (co < vec4<u32>(params.cout)) & vec4<bool>(ci < params.cin));
}

@compute @workgroup_size(T, T)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  // Row tiles spill from x into y (a 1024² VAE layer has more than 65535 of them); z = cout tile.
  let mt = wg.x + wg.y * nwg.x;
  if (mt >= params.mtiles) { return; }
  let tx = lid.x; // pixel groups tx, tx+T (compute and A staging); K-row while staging B
  let ty = lid.y; // cout groups ty, ty+T (compute and B staging); K-row while staging A
  let cin = params.cin;
  let hw = params.h * params.w;
  let kk = params.kh * params.kw;
  let p0 = pixels(mt * 8u * T + tx * 4u);
  let p1 = pixels(mt * 8u * T + (tx + T) * 4u);
  let co0 = wg.z * 8u * T + ty * 4u;
  let co1 = co0 + 4u * T;

  // Accumulators (zero-initialised): c* for pixel group tx, d* for tx+T; index = cout within the 8.
  var c0: vec4<f32>; var c1: vec4<f32>; var c2: vec4<f32>; var c3: vec4<f32>;
  var c4: vec4<f32>; var c5: vec4<f32>; var c6: vec4<f32>; var c7: vec4<f32>;
  var d0: vec4<f32>; var d1: vec4<f32>; var d2: vec4<f32>; var d3: vec4<f32>;
  var d4: vec4<f32>; var d5: vec4<f32>; var d6: vec4<f32>; var d7: vec4<f32>;

  for (var tap = 0u; tap < kk; tap++) {
    let ky = i32(tap / params.kw);
    let kx = i32(tap % params.kw);
    let off0 = tapOffsets(p0, ky, kx);
    let off1 = tapOffsets(p1, ky, kx);
    for (var ci0 = 0u; ci0 < cin; ci0 += params.bk) {
      for (var r = 0u; r < params.bk; r += T) {
        let ca = ci0 + ty + r;
        let cofs = i32(min(ca, cin - 1u) * hw);
        tileA[(ty + r) * 2u * T + tx] = gatherA(off0, cofs, ca < cin);
        tileA[(ty + r) * 2u * T + tx + T] = gatherA(off1, cofs, ca < cin);
        let cb = ci0 + tx + r; // consecutive threads read consecutive ci: contiguous for 1×1
        tileB[(tx + r) * 2u * T + ty] = gatherB(co0, cb, tap, kk);
        tileB[(tx + r) * 2u * T + ty + T] = gatherB(co1, cb, tap, kk);
      }
      workgroupBarrier();
      for (var k = 0u; k < params.bk; k++) {
        let a0 = tileA[k * 2u * T + tx];
        let a1 = tileA[k * 2u * T + tx + T];
        let b0 = tileB[k * 2u * T + ty];
        let b1 = tileB[k * 2u * T + ty + T];
        c0 = fma(a0, vec4<f32>(b0.x), c0); c1 = fma(a0, vec4<f32>(b0.y), c1);
        c2 = fma(a0, vec4<f32>(b0.z), c2); c3 = fma(a0, vec4<f32>(b0.w), c3);
        c4 = fma(a0, vec4<f32>(b1.x), c4); c5 = fma(a0, vec4<f32>(b1.y), c5);
        c6 = fma(a0, vec4<f32>(b1.z), c6); c7 = fma(a0, vec4<f32>(b1.w), c7);
        d0 = fma(a1, vec4<f32>(b0.x), d0); d1 = fma(a1, vec4<f32>(b0.y), d1);
        d2 = fma(a1, vec4<f32>(b0.z), d2); d3 = fma(a1, vec4<f32>(b0.w), d3);
        d4 = fma(a1, vec4<f32>(b1.x), d4); d5 = fma(a1, vec4<f32>(b1.y), d5);
        d6 = fma(a1, vec4<f32>(b1.z), d6); d7 = fma(a1, vec4<f32>(b1.w), d7);
      }
      workgroupBarrier();
    }
  }

  store(c0, co0, p0); store(c1, co0 + 1u, p0); store(c2, co0 + 2u, p0); store(c3, co0 + 3u, p0);
  store(c4, co1, p0); store(c5, co1 + 1u, p0); store(c6, co1 + 2u, p0); store(c7, co1 + 3u, p0);
  store(d0, co0, p1); store(d1, co0 + 1u, p1); store(d2, co0 + 2u, p1); store(d3, co0 + 3u, p1);
  store(d4, co1, p1); store(d5, co1 + 1u, p1); store(d6, co1 + 2u, p1); store(d7, co1 + 3u, p1);
}

// Epilogue for one cout and four pixels: + bias, + residual (ResnetBlock2D's skip), cast, store.
fn store(v: vec4<f32>, co: u32, q: Pix) {
  if (co >= params.cout) { return; }
  let hwo = params.hout * params.wout;
#if HAS_BIAS
  let bv = f32(bias[co]);
#else
  let bv = 0.0;
#endif
  for (var j = 0u; j < 4u; j++) {
    if (!q.live[j]) { continue; }
    let i = q.obase[j] + co * hwo;
#if RESIDUAL
    out[i] = {{DTYPE}}(v[j] + bv + f32(residual[i]));
#else
    out[i] = {{DTYPE}}(v[j] + bv);
#endif
  }
}
