// Batched 2-D transpose: out[b, c, r] = in[b, r, c] for in [B, R, C]. Turns NCHW ([B, C, H·W]) into
// token sequences [B, H·W, C] and back. A 16×16 tile goes through workgroup memory (one column of
// padding avoids bank conflicts) so both the read and the write are coalesced.
// Entry point `direct` (CPU adapters, ops/transpose.ts): one invocation per output element, no
// workgroup memory and no barrier. Coalescing means nothing to a CPU, while a 256-thread workgroup
// with a barrier is what SwiftShader pays most for (14 ms for a 2×16×1024 transpose, tiled).
// RESIDUAL: out[b, c, r] = in[b, r, c] + res[b, c, r], the residual read at the write index (coalesced
// like the write). A Transformer2DModel with linear projections ends tokens → NCHW → + its input; this
// is that add as the transpose's epilogue (one dispatch and one pass over the tensor fewer).
#param DTYPE
#param RESIDUAL
#if DTYPE == f16
enable f16;
#endif

struct Params {
  batch: u32,
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<{{DTYPE}}>;
@group(0) @binding(2) var<storage, read_write> dst: array<{{DTYPE}}>;
#if RESIDUAL
@group(0) @binding(3) var<storage, read> res: array<{{DTYPE}}>;
#endif

// the value stored at dst[o]: the transposed element, plus the residual when there is one
fn store(o: u32, v: {{DTYPE}}) {
#if RESIDUAL
  dst[o] = {{DTYPE}}(f32(v) + f32(res[o])); // in f32 then rounded once, as elementwise.wgsl's add
#else
  dst[o] = v;
#endif
}

const TILE: u32 = 16u;
var<workgroup> tile: array<array<{{DTYPE}}, 17>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.z;
  let base = b * params.rows * params.cols;
  // read: rows r, columns c of the source tile
  let r = wg.y * TILE + lid.y;
  let c = wg.x * TILE + lid.x;
  if (r < params.rows && c < params.cols) {
    tile[lid.y][lid.x] = src[base + r * params.cols + c];
  }
  workgroupBarrier();
  // write: the transposed tile; out row = source column
  let orow = wg.x * TILE + lid.y;
  let ocol = wg.y * TILE + lid.x;
  if (orow < params.cols && ocol < params.rows) {
    store(base + orow * params.rows + ocol, tile[lid.x][lid.y]);
  }
}

@compute @workgroup_size(64)
fn direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * 64u;
  let plane = params.rows * params.cols;
  if (o >= params.batch * plane) { return; }
  // o = b·plane + c·rows + r, the destination order: out[b, c, r] = in[b, r, c]
  let b = o / plane;
  let q = o % plane;
  let c = q / params.rows;
  let r = q % params.rows;
  store(o, src[b * plane + r * params.cols + c]);
}
