/**
 * Plain-TS f64 reference of attention's forward statistics and backward, on dense q [B, Tq, H·D] and
 * k/v [B, Tk, H·D]: the textbook form with each query row's whole score row in memory (what the kernels
 * avoid), so that it checks their tiling, recomputation and masking independently.
 *   S = scale·q·kᵀ (causal: key j visible to query i iff j <= i), lse = log Σ exp S, P = exp(S − lse),
 *   out = P·v, D = rowsum(dO∘out), dV = Pᵀ·dO, dP = dO·vᵀ, dS = P∘(dP − D), dQ = scale·dS·k, dK = scale·dSᵀ·q.
 * D uses the reference's own f64 `out`, so this is the exact gradient of L = Σ out·dO.
 */
import type { AttentionProblem } from '../attention';

export interface AttentionBackwardReference {
  /** [B, Tq, H·D] */
  out: Float64Array;
  /** [B, H, Tq], natural log */
  lse: Float64Array;
  dq: Float64Array;
  /** [B, Tk, H·D] */
  dk: Float64Array;
  dv: Float64Array;
}

export function attentionBackwardReference(
  p: AttentionProblem,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dOut: ArrayLike<number>,
): AttentionBackwardReference {
  const { batch, heads, tq, tk, headDim: D, scale, causal } = p;
  const C = heads * D;
  const out = new Float64Array(batch * tq * C);
  const lse = new Float64Array(batch * heads * tq);
  const dq = new Float64Array(batch * tq * C);
  const dk = new Float64Array(batch * tk * C);
  const dv = new Float64Array(batch * tk * C);
  const prob = new Float64Array(tk);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const qa = (i: number) => (b * tq + i) * C + h * D; // row i of q, out, dOut, dq
      const ka = (j: number) => (b * tk + j) * C + h * D; // row j of k, v, dk, dv
      for (let i = 0; i < tq; i++) {
        const visible = causal ? Math.min(tk, i + 1) : tk;
        let max = -Infinity;
        for (let j = 0; j < visible; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qa(i) + d]! * k[ka(j) + d]!;
          prob[j] = s * scale;
          max = Math.max(max, prob[j]!);
        }
        let sum = 0;
        for (let j = 0; j < visible; j++) sum += Math.exp(prob[j]! - max);
        const l = max + Math.log(sum);
        lse[(b * heads + h) * tq + i] = l;
        for (let j = 0; j < visible; j++) prob[j] = Math.exp(prob[j]! - l);
        for (let j = 0; j < visible; j++) {
          for (let d = 0; d < D; d++) out[qa(i) + d] = out[qa(i) + d]! + prob[j]! * v[ka(j) + d]!;
        }
        let rowD = 0;
        for (let d = 0; d < D; d++) rowD += dOut[qa(i) + d]! * out[qa(i) + d]!;
        for (let j = 0; j < visible; j++) {
          let dp = 0;
          for (let d = 0; d < D; d++) dp += dOut[qa(i) + d]! * v[ka(j) + d]!;
          const ds = prob[j]! * (dp - rowD) * scale;
          for (let d = 0; d < D; d++) {
            dv[ka(j) + d] = dv[ka(j) + d]! + prob[j]! * dOut[qa(i) + d]!;
            dq[qa(i) + d] = dq[qa(i) + d]! + ds * k[ka(j) + d]!;
            dk[ka(j) + d] = dk[ka(j) + d]! + ds * q[qa(i) + d]!;
          }
        }
      }
    }
  }
  return { out, lse, dq, dk, dv };
}
