/**
 * The keys and values of every cross-attention (attn2) layer, kept for one sampling run (issue 15
 * point 3). attn2's K and V are to_k(context) and to_v(context) (diffusers Attention): they depend on the
 * text context and the weights only, not on the latents or the timestep. Within one run neither changes
 * (the prompt embeddings and the CFG batch are made before the first step; LoRA and EWA are folded or
 * bound before sampling), yet diffusers projects them again at every step. Projecting them once and
 * reading the same tensors on every later step gives the same bits (same kernels, same inputs) and
 * saves two matmuls per attn2 layer per step.
 *
 * The run that creates the cache owns it (the sampling loop or a guided predictor) and calls release()
 * when it ends, on cancel and error too; nothing else frees the cached tensors, so the pool cannot hand
 * their buffers to another tensor meanwhile. An entry is keyed by the layer's name and by the identity
 * of the context tensor and of the to_k/to_v weight tensors it was projected from: another context (the
 * other half of low-memory CFG, layer-wise EWA states, another prompt) or other weights make their own
 * entry and never read stale K/V.
 */
import { BYTES_PER_ELEMENT, numel } from '../../gpu/tensor';
import type { TensorRef } from './backend';

export interface CrossAttentionKv<T> {
  k: T;
  v: T;
}

/**
 * What K/V are projected from: one context tensor, or the tensors a per-forward stack is made of (regional
 * attn2 stacks the global and region states in every forward; its K/V depend only on those inputs).
 */
export type KvSource<T> = T | readonly T[];

interface Entry<T> extends CrossAttentionKv<T> {
  source: readonly T[];
  toK: T;
  toV: T;
}

const sameSource = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((t, i) => t === b[i]);

export class CrossAttentionKvCacheReleasedError extends Error {
  constructor(layer: string) {
    super(`cross-attention K/V cache: ${layer} asked for K/V after the run released the cache`);
    this.name = 'CrossAttentionKvCacheReleasedError';
  }
}

export class CrossAttentionKvCache<T extends TensorRef> {
  /** Per layer name, one entry per (context, to_k, to_v) it has seen. */
  private readonly entries = new Map<string, Entry<T>[]>();
  private released = false;
  /** K/V pairs projected (misses) and served from the cache (hits) since creation. */
  projections = 0;
  hits = 0;

  /** `free` gives tensors back to their pool (the backend's or the context's release). */
  constructor(private readonly free: (...tensors: T[]) => void) {}

  /**
   * The K/V of `layer` for `context` (by identity) under the weights `toK`/`toV`: the cached pair, else
   * `project()`'s, which the cache then owns (the caller must not release it).
   */
  async kv(layer: string, context: KvSource<T>, toK: T, toV: T, project: () => Promise<CrossAttentionKv<T>>): Promise<CrossAttentionKv<T>> {
    if (this.released) throw new CrossAttentionKvCacheReleasedError(layer);
    const source: readonly T[] = Array.isArray(context) ? [...(context as readonly T[])] : [context as T];
    const list = this.entries.get(layer) ?? [];
    const hit = list.find((e) => sameSource(e.source, source) && e.toK === toK && e.toV === toV);
    if (hit) {
      this.hits++;
      return hit;
    }
    const { k, v } = await project();
    if (this.released) {
      // released while projecting (a cancel racing the forward): nothing may keep these
      this.free(k, v);
      throw new CrossAttentionKvCacheReleasedError(layer);
    }
    this.projections++;
    list.push({ source, toK, toV, k, v });
    this.entries.set(layer, list);
    return { k, v };
  }

  /** Cached K/V pairs. */
  get size(): number {
    let n = 0;
    for (const list of this.entries.values()) n += list.length;
    return n;
  }

  /** Bytes of the cached K and V tensors (each padded to 4 bytes, as buffers are). */
  get bytes(): number {
    let b = 0;
    for (const list of this.entries.values()) {
      for (const e of list) for (const t of [e.k, e.v]) b += Math.ceil((numel(t.shape) * BYTES_PER_ELEMENT[t.dtype]) / 4) * 4;
    }
    return b;
  }

  /** Gives every cached tensor back to the pool; the cache refuses further use. Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const all: T[] = [];
    for (const list of this.entries.values()) for (const e of list) all.push(e.k, e.v);
    this.entries.clear();
    if (all.length) this.free(...all);
  }

  get isReleased(): boolean {
    return this.released;
  }
}
