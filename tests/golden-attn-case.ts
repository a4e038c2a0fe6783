/**
 * Test-only loader for the attention golden cases (golden/README.md): a minimal F32 safetensors reader
 * (8-byte LE header length, JSON header, raw data) and the diffusers Attention module's weights from
 * the tiny UNet/VAE. The real streaming reader lives in src/model/safetensors; this one exists so the
 * attention tests do not depend on it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const GOLDEN = fileURLToPath(new URL('../golden/', import.meta.url));

export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

export function readF32Safetensors(path: string, keep: (name: string) => boolean = () => true): Map<string, F32Tensor> {
  const file = readFileSync(path);
  const bytes = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  const n = Number(new DataView(bytes).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 8, n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, F32Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__' || !keep(name)) continue;
    if (entry.dtype !== 'F32') throw new Error(`${path}: ${name} is ${entry.dtype}, this reader takes F32 only`);
    const [b, e] = entry.data_offsets;
    out.set(name, { shape: entry.shape, data: new Float32Array(bytes.slice(8 + n + b, 8 + n + e)) });
  }
  return out;
}

export interface AttentionGoldenCase {
  /** [B, Tq, Cq] */
  hidden: F32Tensor;
  /** [B, Tk, Ckv]: encoder_hidden_states for cross-attention, else `hidden`. */
  context: F32Tensor;
  heads: number;
  /** Linear weights [out, in] (PyTorch layout); biases absent where the module has none. */
  wq: F32Tensor;
  wk: F32Tensor;
  wv: F32Tensor;
  wo: F32Tensor;
  bq?: F32Tensor;
  bk?: F32Tensor;
  bv?: F32Tensor;
  bo?: F32Tensor;
  output: F32Tensor;
}

function need(m: Map<string, F32Tensor>, name: string): F32Tensor {
  const t = m.get(name);
  if (!t) throw new Error(`golden: tensor ${name} is missing`);
  return t;
}

/** op_attention_self / op_attention_cross: attn1 / attn2 of down_blocks.1.attentions.0 (2 heads × 16). */
export function loadUnetAttentionCase(name: 'op_attention_self' | 'op_attention_cross'): AttentionGoldenCase {
  const c = readF32Safetensors(`${GOLDEN}cases/${name}.safetensors`);
  const prefix = `down_blocks.1.attentions.0.transformer_blocks.0.${name === 'op_attention_self' ? 'attn1' : 'attn2'}.`;
  const w = readF32Safetensors(`${GOLDEN}models/unet/diffusion_pytorch_model.safetensors`, (k) => k.startsWith(prefix));
  const hidden = need(c, 'input.hidden_states');
  return {
    hidden,
    context: c.get('input.encoder_hidden_states') ?? hidden,
    heads: 2,
    wq: need(w, `${prefix}to_q.weight`),
    wk: need(w, `${prefix}to_k.weight`),
    wv: need(w, `${prefix}to_v.weight`),
    wo: need(w, `${prefix}to_out.0.weight`),
    bo: need(w, `${prefix}to_out.0.bias`),
    output: need(c, 'output'),
  };
}

/** y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] (a PyTorch Linear), in f64 on the CPU. */
export function linear(x: ArrayLike<number>, rows: number, w: F32Tensor, b?: F32Tensor): Float64Array {
  const [outF, inF] = w.shape as [number, number];
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let acc = b ? b.data[o]! : 0;
      for (let i = 0; i < inF; i++) acc += x[r * inF + i]! * w.data[o * inF + i]!;
      y[r * outF + o] = acc;
    }
  }
  return y;
}

/**
 * op_vae_mid_attention: decoder.mid_block.attentions.0 (1 head × 64, q/k/v/out with bias) after
 * GroupNorm(8, eps 1e-6); returns the normalised tokens as `hidden` [1, H·W, 64] and the case's
 * NCHW input/output beside them (the residual add is the caller's).
 */
export function loadVaeAttentionCase(): AttentionGoldenCase & { x: F32Tensor } {
  const c = readF32Safetensors(`${GOLDEN}cases/op_vae_mid_attention.safetensors`);
  const prefix = 'decoder.mid_block.attentions.0.';
  const w = readF32Safetensors(`${GOLDEN}models/vae/diffusion_pytorch_model.safetensors`, (k) => k.startsWith(prefix));
  const x = need(c, 'input.x');
  const [, C, H, W] = x.shape as [number, number, number, number];
  const gamma = need(w, `${prefix}group_norm.weight`).data;
  const beta = need(w, `${prefix}group_norm.bias`).data;
  const groups = 8;
  const per = (C / groups) * H * W;
  const tokens = new Float32Array(H * W * C); // NCHW -> [HW, C] after GroupNorm
  for (let g = 0; g < groups; g++) {
    let mean = 0;
    let sq = 0;
    for (let i = 0; i < per; i++) mean += x.data[g * per + i]!;
    mean /= per;
    for (let i = 0; i < per; i++) sq += (x.data[g * per + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(sq / per + 1e-6);
    for (let ch = g * (C / groups); ch < (g + 1) * (C / groups); ch++) {
      for (let p = 0; p < H * W; p++) tokens[p * C + ch] = (x.data[ch * H * W + p]! - mean) * inv * gamma[ch]! + beta[ch]!;
    }
  }
  const hidden = { shape: [1, H * W, C], data: tokens };
  return {
    x,
    hidden,
    context: hidden,
    heads: 1,
    wq: need(w, `${prefix}to_q.weight`),
    wk: need(w, `${prefix}to_k.weight`),
    wv: need(w, `${prefix}to_v.weight`),
    wo: need(w, `${prefix}to_out.0.weight`),
    bq: need(w, `${prefix}to_q.bias`),
    bk: need(w, `${prefix}to_k.bias`),
    bv: need(w, `${prefix}to_v.bias`),
    bo: need(w, `${prefix}to_out.0.bias`),
    output: need(c, 'output'),
  };
}
