/**
 * Plain-TS CLIPTextModel forward (transformers 4.26 modeling_clip.py), in f64, for tests on tiny
 * encoders: token + position embeddings → per layer x += attn(LN1(x)) with the causal mask, then
 * x += fc2(act(fc1(LN2(x)))) → final_layer_norm = last_hidden_state. Attention scales q by
 * head_dim^-0.5 before QKᵀ; act is quick_gelu (x·σ(1.702x), OpenAI CLIP) or exact gelu. Linear weights
 * are [out, in] (y = x Wᵀ + b). Independent of the GPU kernels and of forward.ts.
 */
type Weights = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;

export interface ClipTextReferenceConfig {
  hidden: number;
  heads: number;
  layers: number;
  eps: number;
  act: 'quick_gelu' | 'gelu';
}

function linear(x: Float64Array, rows: number, w: Float32Array, b: Float32Array, inDim: number, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o]!;
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i]! * w[o * inDim + i]!;
      y[r * outDim + o] = s;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, rows: number, dim: number, g: Float32Array, b: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[r * dim + i]!;
    mean /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (x[r * dim + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / dim + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = (x[r * dim + i]! - mean) * inv * g[i]! + b[i]!;
  }
  return y;
}

const erf = (x: number) => {
  // erf(|x|) = 1 − erfc(|x|) by Numerical Recipes' Chebyshev fit of erfc (fractional error < 1.2e-7)
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : -y;
};

/** last_hidden_state [T, hidden] of one sequence of ids. */
export function clipTextReference(w: Weights, c: ClipTextReferenceConfig, ids: readonly number[]): Float64Array {
  const T = ids.length;
  const H = c.hidden;
  const get = (n: string) => {
    const t = w.get(`text_model.${n}`);
    if (!t) throw new Error(`reference: no tensor text_model.${n}`);
    return t.data;
  };
  const tok = get('embeddings.token_embedding.weight');
  const pos = get('embeddings.position_embedding.weight');
  let x = new Float64Array(T * H);
  ids.forEach((id, t) => {
    for (let i = 0; i < H; i++) x[t * H + i] = tok[id * H + i]! + pos[t * H + i]!;
  });
  const hd = H / c.heads;
  for (let l = 0; l < c.layers; l++) {
    const p = (n: string) => get(`encoder.layers.${l}.${n}`);
    const h = layerNorm(x, T, H, p('layer_norm1.weight'), p('layer_norm1.bias'), c.eps);
    const q = linear(h, T, p('self_attn.q_proj.weight'), p('self_attn.q_proj.bias'), H, H);
    const k = linear(h, T, p('self_attn.k_proj.weight'), p('self_attn.k_proj.bias'), H, H);
    const v = linear(h, T, p('self_attn.v_proj.weight'), p('self_attn.v_proj.bias'), H, H);
    const a = new Float64Array(T * H);
    for (let head = 0; head < c.heads; head++) {
      for (let i = 0; i < T; i++) {
        const s: number[] = [];
        for (let j = 0; j <= i; j++) {
          let d = 0;
          for (let e = 0; e < hd; e++) d += q[i * H + head * hd + e]! * hd ** -0.5 * k[j * H + head * hd + e]!;
          s.push(d);
        }
        const m = Math.max(...s);
        const ex = s.map((v2) => Math.exp(v2 - m));
        const z = ex.reduce((u, v2) => u + v2, 0);
        for (let j = 0; j <= i; j++) for (let e = 0; e < hd; e++) a[i * H + head * hd + e]! += (ex[j]! / z) * v[j * H + head * hd + e]!;
      }
    }
    const o = linear(a, T, p('self_attn.out_proj.weight'), p('self_attn.out_proj.bias'), H, H);
    x = x.map((v2, i) => v2 + o[i]!);
    const h2 = layerNorm(x, T, H, p('layer_norm2.weight'), p('layer_norm2.bias'), c.eps);
    const inner = p('mlp.fc1.bias').length;
    const f1 = linear(h2, T, p('mlp.fc1.weight'), p('mlp.fc1.bias'), H, inner).map((u) =>
      c.act === 'quick_gelu' ? u / (1 + Math.exp(-1.702 * u)) : 0.5 * u * (1 + erf(u / Math.SQRT2)),
    );
    const f2 = linear(f1, T, p('mlp.fc2.weight'), p('mlp.fc2.bias'), inner, H);
    x = x.map((v2, i) => v2 + f2[i]!);
  }
  return layerNorm(x, T, H, get('final_layer_norm.weight'), get('final_layer_norm.bias'), c.eps);
}
