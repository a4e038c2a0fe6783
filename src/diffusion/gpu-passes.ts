/**
 * The GPU sampling loop's plugged-in predictors (low-memory CFG, regional synthesis, EWA concepts) run
 * one or more UNet forwards per step on the loop's one-row model input: each forward's batch is that
 * row repeated on the GPU (a copy with a source stride of 0), and the forwards' outputs are gathered
 * in order into one [Σ rows, C, h, w] tensor, which the loop's CFG or the predictor's combine reads.
 * Nothing is read back. On an error or a cancel between blocks everything made here is released.
 */
import type { GpuContext } from '../gpu/context';
import { numel, type Tensor } from '../gpu/tensor';
import { stridedCopy } from '../ops/strided-copy';

/**
 * Runs `forward(i, input)` for every pass (its `rows` copies of `sample` as input) and returns their
 * outputs as one tensor, in pass order (a single pass's output as it is).
 */
export async function gatherPasses(
  ctx: GpuContext,
  sample: Tensor,
  passes: readonly { rows: number }[],
  forward: (index: number, input: Tensor) => Promise<Tensor>,
  label: string,
): Promise<Tensor> {
  const rowSize = numel(sample.shape);
  const total = passes.reduce((k, p) => k + p.rows, 0);
  let all: Tensor | null = null;
  let at = 0;
  try {
    for (const [i, p] of passes.entries()) {
      const input = p.rows === 1 ? sample : ctx.empty([p.rows, ...sample.shape.slice(1)], sample.dtype, 'unet-sample');
      try {
        if (input !== sample) await stridedCopy(ctx, sample, input, { rows: p.rows, cols: rowSize, srcStride: 0 });
        const pred = await forward(i, input);
        if (passes.length === 1) return pred;
        const cols = numel(pred.shape);
        all ??= ctx.empty([total, ...pred.shape.slice(1)], pred.dtype, label);
        try {
          await stridedCopy(ctx, pred, all, { rows: 1, cols, dstOffset: at });
        } finally {
          ctx.release(pred);
        }
        at += cols;
      } finally {
        if (input !== sample) ctx.release(input);
      }
    }
    return all!;
  } catch (e) {
    if (all) ctx.release(all);
    throw e;
  }
}
