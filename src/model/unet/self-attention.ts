/**
 * Self-attention (attn1 of a BasicTransformerBlock): diffusers Attention with q, k and v all projected
 * from x. When the backend holds to_q/to_k/to_v back to back (fused-qkv.ts) the three projections are
 * one matmul x·W_qkvᵀ → [B, T, 3C], read by the attention kernel as strided slices; otherwise, and on
 * backends without the fused ops (training), the three matmuls of attentionModule. Same math either
 * way: each output column is the same dot product of a row of x with a row of one weight.
 */
import type { TensorRef, UNetBackend } from './backend';
import { qkvWeightNames } from './fused-qkv';

/** to_out.0(attention(to_q(x), to_k(x), to_v(x))) (+ residual), with one input matmul where the weights allow. */
export async function selfAttentionModule<T extends TensorRef>(be: UNetBackend<T>, p: string, heads: number, x: T, residual?: T): Promise<T> {
  const w = (n: string) => be.weight(`${p}.${n}`);
  const fused = be.attentionQkv ? be.fusedWeight?.(qkvWeightNames(p)) : null;
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
