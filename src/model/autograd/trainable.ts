/**
 * The trainable tensors of a training step, as the training backend sees them: per frozen linear
 * weight, a LoRA (down [r, in], up [out, r], scale α) and, per text encoder, extra token-embedding
 * rows. Each has a compute copy in the activation dtype (what the forward reads) and an f32 gradient
 * accumulator that the backward adds into (the optimizer's master copy is f32, spec §1.6: "trainable
 * params fp32").
 */
import type { GpuContext } from '../../gpu/context';
import type { Tensor } from '../../gpu/tensor';
import { matmul } from '../../ops/matmul';
import { stridedCopy } from '../../ops/strided-copy';
import { numel } from '../../gpu/tensor';

export interface TrainableLora {
  /** [r, in], activation dtype */
  down: Tensor;
  /** [out, r], activation dtype */
  up: Tensor;
  alpha: number;
  /** f32 accumulators of dL/d down and dL/d up. */
  gradDown: Tensor;
  gradUp: Tensor;
  /** Multiplies each contribution on accumulation: 1 / the loss scale of an f16 backward. */
  gradScale: number;
}

export interface TrainableRows {
  /** [K, hidden] rows for ids vocabStart … vocabStart + K − 1, activation dtype. */
  rows: Tensor;
  vocabStart: number;
  /** f32 [K, hidden] */
  grad: Tensor;
  gradScale: number;
}

/** Adds alpha · g (f32 or f16) into an f32 accumulator of the same size, then frees g. */
export async function accumulateInto(ctx: GpuContext, acc: Tensor, g: Tensor, alpha = 1): Promise<void> {
  await stridedCopy(ctx, g, acc, { rows: 1, cols: numel(acc.shape), accumulate: true, alpha });
  ctx.release(g);
}

/**
 * LoRA linear backward for frozen W (no dW): with t = dY·U [rows, r] and xd = x·Dᵀ [rows, r],
 *   dX = dY·W + α·t·D,   dU = α·dYᵀ·xd,   dD = α·tᵀ·x
 * (golden-training op_bw_lora_linear). x and dY are [rows, in] / [rows, out] views.
 */
export async function loraLinearBackward(ctx: GpuContext, x: Tensor | null, dY: Tensor, w: Tensor, lora: TrainableLora, needDx: boolean): Promise<Tensor | null> {
  const t = await matmul(ctx, dY, lora.up, { label: 'lora-bw-t' });
  if (x) {
    const xd = await matmul(ctx, x, lora.down, { transB: true, label: 'lora-bw-xd' });
    await accumulateInto(ctx, lora.gradUp, await matmul(ctx, dY, xd, { transA: true, alpha: lora.alpha, label: 'lora-bw-dup' }), lora.gradScale);
    ctx.release(xd);
    await accumulateInto(ctx, lora.gradDown, await matmul(ctx, t, x, { transA: true, alpha: lora.alpha, label: 'lora-bw-ddown' }), lora.gradScale);
  }
  let dx: Tensor | null = null;
  if (needDx) {
    dx = await matmul(ctx, dY, w, { label: 'linear-bw-dx' });
    const extra = await matmul(ctx, t, lora.down, { alpha: lora.alpha, label: 'lora-bw-dx' });
    await stridedCopy(ctx, extra, dx, { rows: 1, cols: numel(dx.shape), accumulate: true });
    ctx.release(extra);
  }
  ctx.release(t);
  return dx;
}
