/**
 * Plain-TS f64 reference of regionalAttention(): the global and every region's attention computed
 * independently by attentionReference (two-pass softmax over the full row), prompt a's K/V addressed as
 * a strided view of the [B, 1 + U, Tk, H·D] tensors, then combined per query row by the soft-mask rule
 * out = (1 − min(1, total))·O_global + Σ_u w_u·O_u / max(1, total), w_u = mask·active.
 */
import { attentionReference, denseView } from './attention.reference';
import type { RegionalAttentionProblem } from './regional-attention';

export interface RegionalReferenceInputs {
  /** [B, Tq, H·D], or [B, 1 + U, Tq, H·D] when the problem's perPromptQ. */
  q: ArrayLike<number>;
  /** [B, 1 + U, Tk, H·D], prompt 0 global. */
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  masks: ArrayLike<number>;
  active: ArrayLike<number>;
}

/** The combination weights of one query row: the global output's and each region's. */
export function combineWeights(w: readonly number[]): { global: number; regions: number[] } {
  const total = w.reduce((a, b) => a + b, 0);
  return { global: 1 - Math.min(1, total), regions: w.map((x) => x / Math.max(1, total)) };
}

export function regionalAttentionReference(p: RegionalAttentionProblem, x: RegionalReferenceInputs): Float64Array {
  const { batch: B, heads, tq, tk, headDim: D, regions: U } = p;
  const C = heads * D;
  const base = { batch: B, heads, tq, tk, headDim: D, scale: p.scale, causal: false };
  // q: one [Tq, C] per batch element shared by every prompt, or one per prompt ([B, 1 + U, Tq, C])
  const qOf = (a: number) => (p.perPromptQ ? { data: x.q, view: { offset: a * tq * C, batchStride: (U + 1) * tq * C, headStride: D, tokenStride: C } } : { data: x.q, view: denseView(tq, C, D) });
  const prompt = (a: number) => {
    const view = { offset: a * tk * C, batchStride: (U + 1) * tk * C, headStride: D, tokenStride: C };
    return attentionReference(base, qOf(a), { data: x.k, view }, { data: x.v, view });
  };
  const global = prompt(0);
  const regional = Array.from({ length: U }, (_, u) => prompt(u + 1));
  const out = new Float64Array(B * tq * C);
  for (let b = 0; b < B; b++) {
    const mb = p.maskBatch === 1 ? 0 : b;
    for (let t = 0; t < tq; t++) {
      const w = Array.from({ length: U }, (_, u) => Math.min(1, Math.max(0, x.masks[(mb * U + u) * tq + t]!)) * x.active[b * U + u]!);
      const c = combineWeights(w);
      const row = (b * tq + t) * C;
      for (let i = 0; i < C; i++) {
        let o = c.global * global[row + i]!;
        for (let u = 0; u < U; u++) o += c.regions[u]! * regional[u]![row + i]!;
        out[row + i] = o;
      }
    }
  }
  return out;
}
