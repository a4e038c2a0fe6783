// Token (+ position) embedding lookup: out[i, c] = table[ids[i] - row_start, c] + pos[i % seq, c].
// A vocabulary table larger than one binding (OpenCLIP-bigG in f32: 49408 × 1280 × 4 B = 253 MB, over
// the 128 MiB per-binding limit every WebGPU device guarantees) is kept as row blocks; the op runs this
// kernel once per block, and each dispatch writes only the tokens whose id falls in its rows
// [row_start, row_start + rows), so every output element is written by exactly one dispatch. Extra rows
// (ids >= vocab_size: learned concept tokens) are simply one more block starting at vocab_size.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  count: u32,     // tokens * dim
  dim: u32,       // embedding width
  seq: u32,       // positions cycle every `seq` tokens (tokens are [batch, seq] row-major)
  row_start: u32, // id of this block's row 0
  rows: u32,      // rows in this block
  has_pos: u32,   // 1: add the position embedding, 0: plain gather
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
#if PACKED_TABLE
// A packed-f16 table (devices without shader-f16; bigG's table is 126 MB this way instead of 253 MB in
// f32): element i is half (i & 1) of u32 word i >> 1, unpacked with the core unpack2x16float.
@group(0) @binding(2) var<storage, read> table: array<u32>;
fn tableAt(i: u32) -> f32 { return unpack2x16float(table[i >> 1u])[i & 1u]; }
#else
@group(0) @binding(2) var<storage, read> table: array<{{DTYPE}}>;
fn tableAt(i: u32) -> f32 { return f32(table[i]); }
#endif
@group(0) @binding(3) var<storage, read> pos: array<{{DTYPE}}>;
@group(0) @binding(4) var<storage, read_write> out: array<{{DTYPE}}>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  if (i >= params.count) { return; }
  let token = i / params.dim;
  let c = i - token * params.dim;
  // Unsigned wrap-around makes ids below row_start large, so one comparison covers both ends.
  let row = ids[token] - params.row_start;
  if (row >= params.rows) { return; }
  // Sum in f32 and round once: torch adds the two embeddings in the storage dtype, which for f32 is
  // the same and for f16 storage differs by at most one rounding.
  var v = tableAt(row * params.dim + c);
  if (params.has_pos != 0u) {
    v += f32(pos[(token % params.seq) * params.dim + c]);
  }
  out[i] = {{DTYPE}}(v);
}
