// EWA's similarity inputs (CIDM spec §3.2 step 3, §3.1): for every cross-attention layer l, the dot
// products of the concept prompt's layer-l states at the placeholder words' rows (j < J) with the user
// prompt's layer-l states at every position (k < K), and the squared norms of both sides, all in f32
// whatever the storage dtype (CLIP states reach norms in the hundreds at BOS: their squares overflow
// f16). Both EWA forms (cosine/max/mean/s⁴ and the paper's dot/ψ) are functions of these numbers.
//
// Output [L, J + 1, K + 1]:  out[l, j, k] = ê_j·ĉ_k;  out[l, j, K] = ‖ê_j‖²;  out[l, J, k] = ‖ĉ_k‖²;
// out[l, J, K] = 0. One invocation per output element: the sizes are small (SDXL: 70 × ~75 × 77 dot
// products of 2048 values), and computing the norms in the same dispatch keeps it at one.
#param DTYPE
#if DTYPE == f16
enable f16;
#endif

struct Params {
  layers: u32,
  words: u32,         // J
  tokens: u32,        // K
  dim: u32,           // C
  concept_stride: u32, // rows between layers of the concept states (word j of layer l: l·stride + word_rows[j])
  prompt_stride: u32, // rows between layers of the prompt states: K, or 0 when one prompt serves all layers
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> concept_states: array<{{DTYPE}}>;  // rows of C
@group(0) @binding(2) var<storage, read> word_rows: array<u32>;      // [J] row of word j at layer 0
@group(0) @binding(3) var<storage, read> prompt_states: array<{{DTYPE}}>;   // [L or 1, K, C]
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // [L, J + 1, K + 1]

override WG: u32 = 64u;

fn concept_prompt(e: u32, c: u32) -> f32 {
  var s = 0.0;
  for (var t = 0u; t < params.dim; t++) { s += f32(concept_states[e + t]) * f32(prompt_states[c + t]); }
  return s;
}

fn concept_sq(e: u32) -> f32 {
  var s = 0.0;
  for (var t = 0u; t < params.dim; t++) { let x = f32(concept_states[e + t]); s += x * x; }
  return s;
}

fn prompt_sq(c: u32) -> f32 {
  var s = 0.0;
  for (var t = 0u; t < params.dim; t++) { let x = f32(prompt_states[c + t]); s += x * x; }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let J1 = params.words + 1u;
  let K1 = params.tokens + 1u;
  if (i >= params.layers * J1 * K1) { return; }
  let l = i / (J1 * K1);
  let r = i - l * J1 * K1;
  let j = r / K1;
  let k = r - j * K1;
  let is_word = j < params.words;
  let is_token = k < params.tokens;
  if (!is_word && !is_token) {
    out[i] = 0.0;
    return;
  }
  // Element offsets of the two rows (the norm column/row needs only one of them).
  if (is_word) {
    let e = (l * params.concept_stride + word_rows[j]) * params.dim;
    if (is_token) {
      out[i] = concept_prompt(e, (l * params.prompt_stride + k) * params.dim);
    } else {
      out[i] = concept_sq(e);
    }
  } else {
    out[i] = prompt_sq((l * params.prompt_stride + k) * params.dim);
  }
}
