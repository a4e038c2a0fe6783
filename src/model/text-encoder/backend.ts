/**
 * The operations the CLIP text transformer is written in (forward.ts), so that one forward serves
 * inference (GpuTextBackend below: the WGSL kernels) and training (src/model/autograd/train-backend.ts,
 * which records a tape for the backward through the layer-wise concept tokens).
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { attention } from '../../ops/attention';
import { embedding, type EmbeddingBlock } from '../../ops/embedding';
import { add, unary, type Activation } from '../../ops/elementwise';
import { linear } from '../../ops/linear';
import { layerNorm } from '../../ops/norm';
import { ModelFileError } from '../errors';
import type { Awaitable, TensorRef } from '../unet/backend';

export interface TextEncoderBackend<T extends TensorRef> {
  /** A parameter by transformers name (resident; never released by the forward). */
  weight(name: string): T;
  /**
   * token_embedding(ids) + position_embedding(0..seq−1): ids index the frozen table `blocks` and, from
   * `extra.start` on, the rows of `extra` (learned concept tokens). Output [ids/seq, seq, hidden].
   */
  embed(ids: ArrayLike<number>, seq: number, blocks: readonly EmbeddingBlock[], positions: T, extra?: { rows: T; start: number }): Awaitable<T>;
  layerNorm(x: T, gamma: T, beta: T, eps: number): Awaitable<T>;
  linear(x: T, w: T, b: T | null): Awaitable<T>;
  attention(q: T, k: T, v: T, heads: number, causal: boolean): Awaitable<T>;
  add(a: T, b: T): Awaitable<T>;
  activation(act: Activation, x: T): Awaitable<T>;
  /** Rows `rows` of a [N, hidden] tensor → [rows.length, hidden]. */
  gatherRows(x: T, rows: readonly number[]): Awaitable<T>;
  reshape(x: T, shape: readonly number[]): T;
  release(...tensors: T[]): void;
  /** Optional gradient checkpointing of one encoder layer (see UNetBackend.checkpoint). */
  checkpoint?(name: string, inputs: readonly T[], run: (inputs: readonly T[]) => Promise<T>): Promise<T>;
}

export class GpuTextBackend implements TextEncoderBackend<Tensor> {
  constructor(private readonly ctx: GpuContext, private readonly weights: ReadonlyMap<string, Tensor>) {}

  weight(name: string): Tensor {
    const w = this.weights.get(name);
    if (!w) throw new ModelFileError('missing-tensor', 'text encoder', 'the text encoder needs this weight', name);
    return w;
  }
  embed(ids: ArrayLike<number>, seq: number, blocks: readonly EmbeddingBlock[], positions: Tensor, extra?: { rows: Tensor; start: number }): Promise<Tensor> {
    const all = extra ? [...blocks, { tensor: extra.rows, start: extra.start }] : blocks;
    return embedding(this.ctx, ids, all, { positions, seq, label: 'te-embeddings' });
  }
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Promise<Tensor> {
    return layerNorm(this.ctx, x, gamma, beta, { eps, label: 'te-layernorm' });
  }
  linear(x: Tensor, w: Tensor, b: Tensor | null): Promise<Tensor> {
    return linear(this.ctx, x, w, b ?? undefined, { label: 'te-linear' });
  }
  attention(q: Tensor, k: Tensor, v: Tensor, heads: number, causal: boolean): Promise<Tensor> {
    return attention(this.ctx, q, k, v, { heads, causal, label: 'te-attention' });
  }
  add(a: Tensor, b: Tensor): Promise<Tensor> {
    return add(this.ctx, a, b);
  }
  activation(act: Activation, x: Tensor): Promise<Tensor> {
    return unary(this.ctx, act, x);
  }
  gatherRows(x: Tensor, rows: readonly number[]): Promise<Tensor> {
    return embedding(this.ctx, rows, [{ tensor: x, start: 0 }], { label: 'te-pooled' });
  }
  reshape(x: Tensor, shape: readonly number[]): Tensor {
    return { ...x, shape: [...shape] };
  }
  release(...tensors: Tensor[]): void {
    this.ctx.release(...tensors);
  }
}
