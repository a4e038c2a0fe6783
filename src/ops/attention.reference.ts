/**
 * Plain-TS f64 reference of attention(): the textbook two-pass softmax (max, then exp and sum) over
 * the full score row, with the same strided addressing as the kernel, so that it checks the online
 * softmax, the tiling and the strides independently. Output is dense [B, Tq, H·D].
 */
import type { AttentionProblem, StridedView } from './attention';

export interface ReferenceOperand {
  data: ArrayLike<number>;
  view: StridedView;
}

/** The view of a dense [B, tokens, channels] array, starting at column `colOffset`. */
export function denseView(tokens: number, channels: number, headDim: number, colOffset = 0): StridedView {
  return { offset: colOffset, batchStride: tokens * channels, headStride: headDim, tokenStride: channels };
}

export function attentionReference(
  p: AttentionProblem,
  q: ReferenceOperand,
  k: ReferenceOperand,
  v: ReferenceOperand,
): Float64Array {
  const { batch, heads, tq, tk, headDim: D, scale, causal } = p;
  const out = new Float64Array(batch * tq * heads * D);
  const s = new Float64Array(tk);
  const at = (x: ReferenceOperand, b: number, h: number, t: number) =>
    x.view.offset + b * x.view.batchStride + h * x.view.headStride + t * x.view.tokenStride;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tq; i++) {
        const qi = at(q, b, h, i);
        const visible = causal ? Math.min(tk, i + 1) : tk;
        let max = -Infinity;
        for (let j = 0; j < visible; j++) {
          const kj = at(k, b, h, j);
          let acc = 0;
          for (let d = 0; d < D; d++) acc += q.data[qi + d]! * k.data[kj + d]!;
          s[j] = acc * scale;
          max = Math.max(max, s[j]!);
        }
        let sum = 0;
        for (let j = 0; j < visible; j++) {
          s[j] = Math.exp(s[j]! - max);
          sum += s[j]!;
        }
        const oi = ((b * tq + i) * heads + h) * D;
        for (let j = 0; j < visible; j++) {
          const vj = at(v, b, h, j);
          const w = s[j]! / sum;
          for (let d = 0; d < D; d++) out[oi + d] = out[oi + d]! + w * v.data[vj + d]!;
        }
      }
    }
  }
  return out;
}
