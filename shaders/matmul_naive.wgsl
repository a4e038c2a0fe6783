// C = alpha * op(A) . op(B) (+ bias[n]) (+ R), one output element per invocation.
// The simple, always-correct variant: used for tiny shapes (where a 64x64 tile would be mostly idle)
// and as a second implementation the tiled kernel is checked against. f32 accumulation always.
#param DTYPE
#param BIAS_AT
#param RES_AT
#param C_AT
#if DTYPE == f16
enable f16;
#endif

struct Params {
  M: u32,
  N: u32,
  K: u32,
  // Element strides between consecutive batch matrices; 0 broadcasts a 2-D operand over the batch.
  strideA: u32,
  strideB: u32,
  // First batch of this dispatch (batches beyond the 65535 grid limit go in further dispatches).
  batchBase: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<{{DTYPE}}>;
#if PACKED_B
// B is a packed-f16 weight: element i is half (i & 1) of u32 word i >> 1 (see matmul_tiled.wgsl).
@group(0) @binding(2) var<storage, read> b: array<u32>;
fn loadB(i: u32) -> f32 { return unpack2x16float(b[i >> 1u])[i & 1u]; }
#else
@group(0) @binding(2) var<storage, read> b: array<{{DTYPE}}>;
fn loadB(i: u32) -> f32 { return f32(b[i]); }
#endif
#if BIAS
@group(0) @binding({{BIAS_AT}}) var<storage, read> bias: array<{{DTYPE}}>;
#endif
#if RESIDUAL
// residual epilogue: C = alpha·A·B + bias + R (R: C's shape and dtype), added in f32 before the cast
@group(0) @binding({{RES_AT}}) var<storage, read> res: array<{{DTYPE}}>;
#endif
@group(0) @binding({{C_AT}}) var<storage, read_write> c: array<{{DTYPE}}>;

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let m = gid.y;
  let batch = params.batchBase + gid.z;
  if (m >= params.M || n >= params.N) { return; }
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let baseA = batch * params.strideA;
  let baseB = batch * params.strideB;
  var acc = 0.0;
  for (var k = 0u; k < K; k++) {
#if TRANS_A
    let av = a[baseA + k * M + m]; // A stored [K, M]
#else
    let av = a[baseA + m * K + k]; // A stored [M, K]
#endif
#if TRANS_B
    let bv = loadB(baseB + n * K + k); // B stored [N, K] (a PyTorch Linear weight)
#else
    let bv = loadB(baseB + k * N + n); // B stored [K, N]
#endif
    acc = fma(f32(av), bv, acc);
  }
  var v = acc * params.alpha;
#if BIAS
  v += f32(bias[n]);
#endif
#if RESIDUAL
  v += f32(res[batch * M * N + m * N + n]);
#endif
  c[batch * M * N + m * N + n] = {{DTYPE}}(v);
}
