/**
 * Self-attention (attn1 of a BasicTransformerBlock): diffusers Attention with q, k and v all projected
 * from x. When the backend holds to_q/to_k/to_v back to back (fused-qkv.ts) the three projections are
 * one matmul x·W_qkvᵀ → [B, T, 3C], read by the attention kernel as strided slices; otherwise, and on
 * backends without the fused ops (training), the three matmuls of attentionModule. Same math either
 * way: each output column is the same dot product of a row of x with a row of one weight.
 */
import type { TensorRef, UNetBackend } from './backend';
import { qkvWeightNames } from './fused-qkv';

/**
 * The largest fused qkv activation: 128 MiB, the per-binding limit every WebGPU device guarantees (as
 * forward.ts FF_MAX_ACTIVATION_BYTES). [B, T, 3C] is three times q; where it would pass the limit (e.g.
 * SDXL's 640-channel level at 2048² in f32: 240 MiB) the three [B, T, C] projections run apart.
 */
export const QKV_MAX_ACTIVATION_BYTES = 128 * 2 ** 20;

/** to_out.0(attention(to_q(x), to_k(x), to_v(x))) (+ residual), with one input matmul where the weights allow. */
export async function selfAttentionModule<T extends TensorRef>(be: UNetBackend<T>, p: string, heads: number, x: T, residual?: T): Promise<T> {
  const w = (n: string) => be.weight(`${p}.${n}`);
  const C = x.shape[x.shape.length - 1]!;
  const qkvBytes = (x.shape.reduce((a, b) => a * b, 1) / C) * 3 * C * (x.dtype === 'f16' ? 2 : 4);
  const fused = be.attentionQkv && qkvBytes <= QKV_MAX_ACTIVATION_BYTES ? be.fusedWeight?.(qkvWeightNames(p)) : null;
  let a: T;
  if (fused) {
    const qkv = await be.linear(x, fused, null);
    a = await be.attentionQkv!(qkv, heads);
    be.release(qkv);
  } else {
    const q = await be.linear(x, w('to_q.weight'), null);
    const k = await be.linear(x, w('to_k.weight'), null);
    const v = await be.linear(x, w('to_v.weight'), null);
    a = await be.attention(q, k, v, heads);
    be.release(q, k, v);
  }
  const o = await be.linear(a, w('to_out.0.weight'), w('to_out.0.bias'), residual);
  be.release(a);
  return o;
}
