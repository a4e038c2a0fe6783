/**
 * The operations the UNet forward is written in. Two executors implement it: the GPU backend (the WGSL
 * kernels) and the planning backend (shapes and bytes only, for the memory plan). Because both run the
 * same forward code, the memory plan is the real allocation trace of a UNet step, not an estimate.
 *
 * Layouts: images NCHW; token sequences [B, T, C]; weights in PyTorch layout. Every op returns a new
 * tensor; the forward releases each tensor as soon as its last use is done.
 */
import type { DType } from '../../gpu/tensor';

export interface TensorRef {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Ops may compile a pipeline on first use, so the GPU backend returns promises; the planner need not. */
export type Awaitable<T> = T | Promise<T>;

export interface UNetBackend<T extends TensorRef> {
  /** A weight by diffusers name (already resident; never released by the forward). */
  weight(name: string): T;
  /** A weight by name if the checkpoint has it. */
  hasWeight(name: string): boolean;
  /** Sinusoidal timestep embedding [len, dim] (diffusers get_timestep_embedding), computed on the CPU. */
  timestepEmbedding(timesteps: readonly number[], dim: number, flipSinToCos: boolean, shift: number): Awaitable<T>;
  conv2d(x: T, w: T, b: T | null, o: { stride: 1 | 2; padding: 0 | 1; residual?: T }): Awaitable<T>;
  groupNorm(x: T, gamma: T, beta: T, o: { groups: number; eps: number; silu: boolean }): Awaitable<T>;
  layerNorm(x: T, gamma: T, beta: T, eps: number): Awaitable<T>;
  /** y = x·Wᵀ + b (+ residual), W [out, in]. */
  linear(x: T, w: T, b: T | null, residual?: T): Awaitable<T>;
  /** Multi-head attention on [B,Tq,H·D] × [B,Tk,H·D] → [B,Tq,H·D]. */
  attention(q: T, k: T, v: T, heads: number): Awaitable<T>;
  /**
   * Optional, for self-attention as one input matmul (self-attention.ts, fused-qkv.ts): the [3C, C]
   * weight whose rows are the three named [C, C] weights in order, when the backend holds them back to
   * back in one buffer and may run them as one (no adapter applied to any of them); else null.
   */
  fusedWeight?(names: readonly [string, string, string]): T | null;
  /**
   * Optional, with fusedWeight: self-attention on a fused qkv [B, T, 3·H·D] (q, k, v side by side in
   * each row) → [B, T, H·D].
   */
  attentionQkv?(qkv: T, heads: number): Awaitable<T>;
  /**
   * CIDM regional cross-attention (ops/regional-attention.ts): q [B,Tq,H·D] (or [B,1+U,Tq,H·D], one per
   * prompt), k/v [B,1+U,Tk,H·D] (prompt 0 global, then the regions), f32 masks [1 or B,U,Tq], f32 active
   * [B,U] → [B,Tq,H·D].
   */
  regionalAttention(q: T, k: T, v: T, masks: T, active: T, heads: number): Awaitable<T>;
  /**
   * Optional, for concept-aware regions (forward.ts regionalAttentionModule): the low-rank term
   * ((x·downᵀ) ⊙ scale)·upᵀ of packed LoRAs, down [R, in], up [out, R], `scale` broadcast numpy-style
   * against x·downᵀ [..., R] (so the result may have more leading dims than x). ops/lora.ts lowRankDelta.
   */
  lowRank?(x: T, down: T, up: T, scale: T): Awaitable<T>;
  /**
   * Optional: rows [start, start + rows) of a 2-D [N, C] tensor as a new tensor. With concatBatch it lets
   * the feed-forward run in row chunks that keep every binding at or under 128 MiB (forward.ts).
   */
  sliceRows?(x: T, start: number, rows: number): Awaitable<T>;
  /** Optional, for concept-aware regions: cat(parts, dim=0) of tensors that agree off dim 0 (a part may repeat). */
  concatBatch?(parts: readonly T[]): Awaitable<T>;
  geglu(h: T): Awaitable<T>;
  silu(x: T): Awaitable<T>;
  /** a + b with b broadcast numpy-style (e.g. [B,C,1,1] onto [B,C,H,W]). */
  add(a: T, b: T): Awaitable<T>;
  /** Nearest-neighbour resize of NCHW to an explicit size (2× in a regular UNet). */
  upsampleNearest(x: T, height: number, width: number): Awaitable<T>;
  /** cat([a, b], dim=1) for NCHW. */
  concatChannels(a: T, b: T): Awaitable<T>;
  /** cat along the last axis of 2-D tensors [B, a] ‖ [B, b]. */
  concatLast(a: T, b: T): Awaitable<T>;
  /** NCHW → [B, H·W, C] and back; `residual` (NCHW, the output's shape) is added in the same op. */
  toTokens(x: T): Awaitable<T>;
  fromTokens(t: T, height: number, width: number, residual?: T): Awaitable<T>;
  /** Reinterpret a tensor with a new shape of the same size (no copy). */
  reshape(x: T, shape: readonly number[]): T;
  release(...tensors: T[]): void;
  /**
   * Optional gradient checkpointing of one resnet or transformer block: run(inputs) computes the block.
   * The training backend runs it without keeping its activations and recomputes it in the backward.
   */
  checkpoint?(name: string, inputs: readonly T[], run: (inputs: readonly T[]) => Promise<T>): Promise<T>;
  /**
   * Optional: submit the work recorded so far and resolve once the device has run it (no readback).
   * The forward calls it between blocks when it may be cancelled (UNetInputs.signal).
   */
  settle?(): Promise<void>;
}
