/**
 * The GPU executor of the UNet forward: each backend op is one of the WGSL kernels in src/ops.
 * Activations come from the context's pool and are released by the forward; weights are resident.
 */
import type { GpuContext } from '../../gpu/context';
import { numel, type DType, type Tensor } from '../../gpu/tensor';
import { ModelFileError } from '../errors';
import { attention } from '../../ops/attention';
import { regionalAttention } from '../../ops/regional-attention';
import { concat, concatChannels } from '../../ops/concat';
import { conv2d } from '../../ops/conv2d';
import { add, silu } from '../../ops/elementwise';
import { geglu } from '../../ops/geglu';
import { linear } from '../../ops/linear';
import { groupNorm, layerNorm } from '../../ops/norm';
import { timestepEmbedding } from '../../ops/timestep-embedding';
import { imageToTokens, tokensToImage } from '../../ops/transpose';
import { upsampleNearest } from '../../ops/upsample';
import { stridedCopy } from '../../ops/strided-copy';
import { loraLinear, lowRankDelta, type PackedLora } from '../../ops/lora';
import type { UNetBackend } from './backend';
import { fusedQkvWeight } from './fused-qkv';

export class GpuUNetBackend implements UNetBackend<Tensor> {
  constructor(
    private readonly ctx: GpuContext,
    private readonly weights: ReadonlyMap<string, Tensor>,
    /** Activation dtype; weights must match it. */
    readonly dtype: DType,
    private readonly source = 'unet',
    /** Fused LoRA adapters by the weight tensor they modify (see ops/lora.ts). */
    private readonly lora: ReadonlyMap<Tensor, PackedLora> = new Map(),
  ) {}

  weight(name: string): Tensor {
    const w = this.weights.get(name);
    if (!w) throw new ModelFileError('missing-tensor', this.source, 'the UNet needs this weight', name);
    return w;
  }
  hasWeight(name: string): boolean {
    return this.weights.has(name);
  }
  timestepEmbedding(ts: readonly number[], dim: number, flipSinToCos: boolean, shift: number): Tensor {
    // Computed on the CPU in f64 and uploaded: SwiftShader's WGSL sin/cos are only ~2e-4 accurate,
    // which alone put a whole tiny-UNet forward 2.9e-4 off (DESIGN.md, "one numerical trap").
    const data = timestepEmbedding(ts, dim, { flipSinToCos, downscaleFreqShift: shift });
    return this.ctx.upload(data, [ts.length, dim], this.dtype, 'timestep-embedding');
  }
  conv2d(x: Tensor, w: Tensor, b: Tensor | null, o: { stride: 1 | 2; padding: 0 | 1; residual?: Tensor }): Promise<Tensor> {
    return conv2d(this.ctx, x, w, { stride: o.stride, padding: o.padding, bias: b, residual: o.residual ?? null });
  }
  groupNorm(x: Tensor, gamma: Tensor, beta: Tensor, o: { groups: number; eps: number; silu: boolean }): Promise<Tensor> {
    return groupNorm(this.ctx, x, gamma, beta, o);
  }
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Promise<Tensor> {
    return layerNorm(this.ctx, x, gamma, beta, { eps });
  }
  async linear(x: Tensor, w: Tensor, b: Tensor | null, residual?: Tensor): Promise<Tensor> {
    const adapters = this.lora.get(w);
    // the residual is the matmul's epilogue (one dispatch, issue 15 point 3), with or without the LoRA term
    if (!adapters) return linear(this.ctx, x, w, b ?? undefined, residual ? { residual } : {});
    return loraLinear(this.ctx, x, w, b ?? undefined, adapters, residual);
  }
  attention(q: Tensor, k: Tensor, v: Tensor, heads: number): Promise<Tensor> {
    return attention(this.ctx, q, k, v, { heads });
  }
  /**
   * The [3C, C] view over q/k/v stored back to back (fused-qkv.ts), unless one of them carries fused
   * LoRA adapters (those apply per weight: the three matmuls then run apart) or was replaced by a fold.
   */
  fusedWeight(names: readonly [string, string, string]): Tensor | null {
    const [q, k, v] = names.map((n) => this.weights.get(n));
    if (!q || !k || !v || this.lora.has(q) || this.lora.has(k) || this.lora.has(v)) return null;
    return fusedQkvWeight(q, k, v);
  }
  attentionQkv(qkv: Tensor, heads: number): Promise<Tensor> {
    const [, T, C3] = qkv.shape as [number, number, number];
    if (qkv.shape.length !== 3 || C3 % (3 * heads)) throw new RangeError(`attentionQkv: qkv [${qkv.shape.join(', ')}] is not [B, T, 3·${heads}·D]`);
    const C = C3 / 3;
    // q, k and v are column blocks of every row: offsets 0, C, 2C with row stride 3C (ops/attention.ts AttentionSlice)
    const slice = (i: number) => ({ tensor: qkv, colOffset: i * C, rowStride: C3, tokens: T });
    return attention(this.ctx, slice(0), slice(1), slice(2), { heads, headDim: C / heads }); // → a new [B, T, C]
  }
  regionalAttention(q: Tensor, k: Tensor, v: Tensor, masks: Tensor, active: Tensor, heads: number): Promise<Tensor> {
    return regionalAttention(this.ctx, { q, k, v, masks, active }, { heads });
  }
  lowRank(x: Tensor, down: Tensor, up: Tensor, scale: Tensor): Promise<Tensor> {
    return lowRankDelta(this.ctx, x, down, up, scale);
  }
  async sliceRows(x: Tensor, start: number, rows: number): Promise<Tensor> {
    const cols = x.shape[1]!;
    const out = this.ctx.empty([rows, cols], x.dtype, 'slice-rows');
    await stridedCopy(this.ctx, x, out, { rows, cols, srcOffset: start * cols });
    return out;
  }
  concatBatch(parts: readonly Tensor[]): Promise<Tensor> {
    return concat(this.ctx, parts, 0);
  }
  geglu(h: Tensor): Promise<Tensor> {
    return geglu(this.ctx, h);
  }
  silu(x: Tensor): Promise<Tensor> {
    return silu(this.ctx, x);
  }
  add(a: Tensor, b: Tensor): Promise<Tensor> {
    return add(this.ctx, a, b);
  }
  upsampleNearest(x: Tensor, height: number, width: number): Promise<Tensor> {
    return upsampleNearest(this.ctx, x, { outputSize: [height, width] });
  }
  concatChannels(a: Tensor, b: Tensor): Promise<Tensor> {
    return concatChannels(this.ctx, a, b);
  }
  concatLast(a: Tensor, b: Tensor): Promise<Tensor> {
    return concat(this.ctx, [a, b], a.shape.length - 1);
  }
  toTokens(x: Tensor): Promise<Tensor> {
    return imageToTokens(this.ctx, x);
  }
  fromTokens(t: Tensor, height: number, width: number, residual?: Tensor): Promise<Tensor> {
    return tokensToImage(this.ctx, t, height, width, residual);
  }
  reshape(x: Tensor, shape: readonly number[]): Tensor {
    if (numel(shape) !== numel(x.shape)) throw new RangeError(`reshape [${x.shape}] to [${shape}]`);
    return { ...x, shape: [...shape] };
  }
  release(...tensors: Tensor[]): void {
    this.ctx.release(...tensors);
  }
  /** The previous block's submission, still on the GPU while this one is encoded. */
  private inFlight: Promise<void> | null = null;

  /**
   * Submits the block just recorded and waits for the one before it, so that at most two blocks are
   * queued: the GPU runs block n while JavaScript encodes block n+1 (no idle gap per block), and a
   * cancel stops within two blocks (WebGPU cannot cancel work already submitted; forward.ts, signal).
   * Nothing is read back.
   */
  async settle(): Promise<void> {
    const previous = this.inFlight;
    const current = this.ctx.submit();
    current.catch(() => undefined); // a lost device rejects it; the caller sees that through the next await
    this.inFlight = current;
    await previous;
    // a device error (out of memory) stops the forward here rather than at the step's end
    this.ctx.throwIfDeviceError('the UNet forward');
  }
}
