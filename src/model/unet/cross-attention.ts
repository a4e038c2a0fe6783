/**
 * attn2 (cross-attention) of a BasicTransformerBlock with its K/V from the run's cache
 * (cross-attention-kv-cache.ts): diffusers Attention, to_out.0(attention(to_q(x), to_k(ctx), to_v(ctx))),
 * where to_k(ctx) and to_v(ctx) are projected on the layer's first step and read from the cache after.
 * Same kernels in the same order as forward.ts attentionModule on a miss, so the bits are the same.
 */
import type { TensorRef, UNetBackend } from './backend';
import type { CrossAttentionKvCache } from './cross-attention-kv-cache';

export async function crossAttentionModule<T extends TensorRef>(
  be: UNetBackend<T>,
  p: string,
  heads: number,
  x: T,
  ctx: T,
  cache: CrossAttentionKvCache<T>,
  residual?: T,
): Promise<T> {
  const w = (n: string) => be.weight(`${p}.${n}`);
  const toK = w('to_k.weight');
  const toV = w('to_v.weight');
  const q = await be.linear(x, w('to_q.weight'), null);
  let kv;
  try {
    kv = await cache.kv(p, ctx, toK, toV, async () => {
      const k = await be.linear(ctx, toK, null);
      const v = await be.linear(ctx, toV, null);
      return { k, v };
    });
  } catch (e) {
    be.release(q);
    throw e;
  }
  const a = await be.attention(q, kv.k, kv.v, heads);
  be.release(q); // k and v belong to the cache until the run releases it
  const o = await be.linear(a, w('to_out.0.weight'), w('to_out.0.bias'), residual);
  be.release(a);
  return o;
}
