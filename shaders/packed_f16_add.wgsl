// out = pack(unpack(w) + delta) for a packed-f16 weight w (f16 pairs in u32 words, element i in half
// (i & 1) of word i >> 1) and an f32 delta of the same element count: how a LoRA or EWA fold writes a
// new weight on a device without shader-f16 (DESIGN.md "GPUs as Chrome offers them"). One invocation
// per u32 word, so no two invocations write the same word; an odd count leaves the last word's upper
// half zero, as the loader's padding did. The sum is f32 and rounded to f16 once by pack2x16float, as
// torch's f16 `W + delta` rounds once.
struct Params {
  count: u32, // elements (not words)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> delta: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let word = gid.x + gid.y * nwg.x * WG; // 2-D grid past 65535 workgroups (src/ops/grid.ts)
  let i = word * 2u;
  if (i >= params.count) { return; }
  var v = unpack2x16float(w[word]);
  v.x += delta[i];
  if (i + 1u < params.count) { v.y += delta[i + 1u]; } else { v.y = 0.0; }
  out[word] = pack2x16float(v);
}
