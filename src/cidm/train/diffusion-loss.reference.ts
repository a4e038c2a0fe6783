/** Plain-TS ε-MSE and masked ε-MSE with their gradients, in f64 (src/cidm/train/diffusion-loss.ts). */

export interface EpsMseReference {
  loss: number;
  /** dL/dpred (unscaled). */
  grad: Float64Array;
}

export function epsMseReference(pred: ArrayLike<number>, target: ArrayLike<number>): EpsMseReference {
  const n = pred.length;
  let loss = 0;
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = pred[i]! - target[i]!;
    loss += e * e;
    grad[i] = (2 * e) / n;
  }
  return { loss: loss / n, grad };
}

/** pred/target [B, C, H, W], mask [B, 1, H, W]: mean_b Σ(mask·e²)/Σ mask_b. */
export function maskedEpsMseReference(pred: ArrayLike<number>, target: ArrayLike<number>, mask: ArrayLike<number>, shape: readonly number[]): EpsMseReference {
  const [b, c, h, w] = shape as [number, number, number, number];
  const hw = h * w;
  const grad = new Float64Array(pred.length);
  let loss = 0;
  for (let s = 0; s < b; s++) {
    let msum = 0;
    for (let i = 0; i < hw; i++) msum += mask[s * hw + i]!;
    let num = 0;
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < hw; i++) {
        const j = (s * c + ch) * hw + i;
        const m = mask[s * hw + i]!;
        const e = pred[j]! - target[j]!;
        num += m * e * e;
        grad[j] = (2 * m * e) / (b * msum);
      }
    }
    loss += num / msum / b;
  }
  return { loss, grad };
}
