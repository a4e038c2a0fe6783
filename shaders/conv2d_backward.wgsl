// Input gradient of conv2d, dX = conv_transpose2d(dY, W), as an implicit GEMM shaped like the forward
// (shaders/conv2d.wgsl: same tiles, same register blocking, same staging; only the gathers differ).
//   GEMM rows = dX pixels, columns = Cin, depth K = Cout × (the taps that reach the pixel).
// dX[n,ci,iy,ix] = Σ_{co,ky,kx} dY[n,co,oy,ox]·W[co,ci,ky,kx] over oy = (iy + pad − ky)/stride when
// that is an integer in [0, Hout) (likewise ox). With stride s only the taps ky ≡ iy + pad (mod s)
// reach row iy, so the op dispatches once per phase (iy mod s, ix mod s) (the sub-pixel split of a
// transposed convolution): inside a phase every pixel uses the same taps and oy = qy + (phy + pad −
// ky)/s is a plain shift, i.e. a stride-1 conv with a reduced tap set and no wasted (zero) taps.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  cin: u32, h: u32, w: u32,     // dX: GEMM columns and spatial size
  cout: u32, hout: u32, wout: u32, // dY
  stride: u32, pad: u32, kh: u32, kw: u32,
  phy: u32, phx: u32, // this dispatch's phase: rows iy = qy·stride + phy, columns ix = qx·stride + phx
  hq: u32, wq: u32,   // the phase's grid, ceil((h − phy)/stride) × ceil((w − phx)/stride)
  m: u32,       // GEMM rows, batch·hq·wq
  mtiles: u32,  // row tiles of 8T
  bk: u32,      // K-slice depth (couts) staged per barrier pair
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<{{DTYPE}}>;
#if PACKED_W
// A packed-f16 weight under f32 dY/dX (devices without shader-f16; see shaders/conv2d.wgsl).
@group(0) @binding(2) var<storage, read> wt: array<u32>;
fn weightAt(i: u32) -> f32 { return unpack2x16float(wt[i >> 1u])[i & 1u]; }
#else
@group(0) @binding(2) var<storage, read> wt: array<{{DTYPE}}>;
fn weightAt(i: u32) -> f32 { return f32(wt[i]); }
#endif
@group(0) @binding(3) var<storage, read_write> dx: array<{{DTYPE}}>;

override T: u32 = 8u;

// tileA[k·2T + p]: pixels 4p..4p+3 at cout-row k; tileB[k·2T + c]: cins 4c..4c+3 at cout-row k. Loop
// trip counts stay uniform values, not constants, for the compile-time reason given in conv2d.wgsl.
var<workgroup> tileA: array<vec4<f32>, 512>;
var<workgroup> tileB: array<vec4<f32>, 512>;

// Four consecutive GEMM rows: liveness, image base in dY, phase-grid position, dX offset.
struct Pix { live: vec4<bool>, ybase: vec4<i32>, qy: vec4<i32>, qx: vec4<i32>, obase: vec4<u32> }

fn pixels(m0: u32) -> Pix {
  let m = vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u);
  let mm = min(m, vec4<u32>(params.m - 1u));
  let hwq = params.hq * params.wq;
  let img = mm / hwq;
  let p = mm % hwq;
  let qy = p / params.wq;
  let qx = p % params.wq;
  let iy = qy * params.stride + params.phy;
  let ix = qx * params.stride + params.phx;
  return Pix(m < vec4<u32>(params.m), vec4<i32>(img * params.cout * params.hout * params.wout),
             vec4<i32>(qy), vec4<i32>(qx), img * params.cin * params.h * params.w + iy * params.w + ix);
}

// dY offsets of four pixels for the tap whose shift is (sy, sx); -1 marks a position outside dY.
fn tapOffsets(q: Pix, sy: i32, sx: i32) -> vec4<i32> {
  let oy = q.qy + sy;
  let ox = q.qx + sx;
  let ho = vec4<i32>(i32(params.hout));
  let wo = vec4<i32>(i32(params.wout));
  let inside = q.live & (oy >= vec4<i32>(0)) & (oy < ho) & (ox >= vec4<i32>(0)) & (ox < wo);
  return select(vec4<i32>(-1), q.ybase + oy * wo + ox, inside);
}

// Four dY values of channel offset `cofs`; unconditional loads, zeroed by `select` (as the forward).
fn gatherA(off: vec4<i32>, cofs: i32, ok: bool) -> vec4<f32> {
  let o = max(off, vec4<i32>(0)) + cofs;
  let v = vec4<f32>(f32(dy[o.x]), f32(dy[o.y]), f32(dy[o.z]), f32(dy[o.w]));
  return select(vec4<f32>(0.0), v, (off >= vec4<i32>(0)) & vec4<bool>(ok));
}

// W[co, ci0..ci0+3, tap]: four cins of one cout-row; out-of-range cins and couts are zero.
fn gatherB(ci0: u32, co: u32, tap: u32, kk: u32) -> vec4<f32> {
  let ci = vec4<u32>(ci0) + vec4<u32>(0u, 1u, 2u, 3u);
  let i = (min(co, params.cout - 1u) * params.cin + min(ci, vec4<u32>(params.cin - 1u))) * kk + tap;
  let v = vec4<f32>(weightAt(i.x), weightAt(i.y), weightAt(i.z), weightAt(i.w));
  return select(vec4<f32>(0.0), v, (ci < vec4<u32>(params.cin)) & vec4<bool>(co < params.cout));
}

@compute @workgroup_size(T, T)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let mt = wg.x + wg.y * nwg.x; // row tiles spill from x into y; z = cin tile
  if (mt >= params.mtiles) { return; }
  let tx = lid.x;
  let ty = lid.y;
  let cout = params.cout;
  let hwo = params.hout * params.wout;
  let kk = params.kh * params.kw;
  let s = params.stride;
  let p0 = pixels(mt * 8u * T + tx * 4u);
  let p1 = pixels(mt * 8u * T + (tx + T) * 4u);
  let cbase = wg.z * 8u * T;
  let ci0 = cbase + ty * 4u;
  let ci1 = ci0 + 4u * T;

  var c0: vec4<f32>; var c1: vec4<f32>; var c2: vec4<f32>; var c3: vec4<f32>;
  var c4: vec4<f32>; var c5: vec4<f32>; var c6: vec4<f32>; var c7: vec4<f32>;
  var d0: vec4<f32>; var d1: vec4<f32>; var d2: vec4<f32>; var d3: vec4<f32>;
  var d4: vec4<f32>; var d5: vec4<f32>; var d6: vec4<f32>; var d7: vec4<f32>;

  // The phase's taps: ky ≡ phy + pad (mod s); the shift divides exactly (truncation is harmless).
  for (var ky = (params.phy + params.pad) % s; ky < params.kh; ky += s) {
    let sy = (i32(params.phy + params.pad) - i32(ky)) / i32(s);
    for (var kx = (params.phx + params.pad) % s; kx < params.kw; kx += s) {
      let sx = (i32(params.phx + params.pad) - i32(kx)) / i32(s);
      let tap = ky * params.kw + kx;
      let off0 = tapOffsets(p0, sy, sx);
      let off1 = tapOffsets(p1, sy, sx);
      for (var k0 = 0u; k0 < cout; k0 += params.bk) {
        for (var r = 0u; r < params.bk; r += T) {
          let ca = k0 + ty + r;
          let cofs = i32(min(ca, cout - 1u) * hwo);
          tileA[(ty + r) * 2u * T + tx] = gatherA(off0, cofs, ca < cout);
          tileA[(ty + r) * 2u * T + tx + T] = gatherA(off1, cofs, ca < cout);
          // B is staged with the roles of tx and ty swapped against the compute (K-row ty, cin group
          // tx): neighbouring threads then read neighbouring cins of one cout, kk elements apart,
          // rather than neighbouring couts Cin·kk apart.
          tileB[(ty + r) * 2u * T + tx] = gatherB(cbase + tx * 4u, ca, tap, kk);
          tileB[(ty + r) * 2u * T + tx + T] = gatherB(cbase + (tx + T) * 4u, ca, tap, kk);
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
  }

  store(c0, ci0, p0); store(c1, ci0 + 1u, p0); store(c2, ci0 + 2u, p0); store(c3, ci0 + 3u, p0);
  store(c4, ci1, p0); store(c5, ci1 + 1u, p0); store(c6, ci1 + 2u, p0); store(c7, ci1 + 3u, p0);
  store(d0, ci0, p1); store(d1, ci0 + 1u, p1); store(d2, ci0 + 2u, p1); store(d3, ci0 + 3u, p1);
  store(d4, ci1, p1); store(d5, ci1 + 1u, p1); store(d6, ci1 + 2u, p1); store(d7, ci1 + 3u, p1);
}

// One cin, four pixels. A phase with no taps (1×1 kernel, stride 2, odd phase) stores zeros.
fn store(v: vec4<f32>, ci: u32, q: Pix) {
  if (ci >= params.cin) { return; }
  let hw = params.h * params.w;
  for (var j = 0u; j < 4u; j++) {
    if (q.live[j]) { dx[q.obase[j] + ci * hw] = {{DTYPE}}(v[j]); }
  }
}
