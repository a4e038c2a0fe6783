/**
 * Plain-TS consolidation loss and gradient in f64 (spec §2.2; src/cidm/train/consolidation.ts): forms
 * each U Uᵢᵀ entry explicitly, the way the released code does with torch.matmul.
 */
import type { R1Form } from './consolidation';

export interface UpMatrix {
  data: ArrayLike<number>;
  rows: number;
  rank: number;
}

export interface ConsolidationReference {
  r1Code: number;
  r1Paper: number;
  enhan: number;
  /** d(γ·R1 + γ·enhan)/dU per module, [rows, rank] each; empty for the first task. */
  grads: Float64Array[];
}

/** `old[i][m]`: earlier task i's up of module m. */
export function consolidationReference(ups: readonly UpMatrix[], old: readonly (readonly ArrayLike<number>[])[], gamma = 0.1, form: R1Form = 'code'): ConsolidationReference {
  const tasks = old.length;
  const M = ups.length;
  if (tasks === 0) return { r1Code: 0, r1Paper: 0, enhan: 0, grads: [] };
  let r1Code = 0;
  let r1Paper = 0;
  let enhan = 0;
  const grads = ups.map((u) => new Float64Array(u.rows * u.rank));
  for (const [m, u] of ups.entries()) {
    const { rows, rank, data } = u;
    const g = grads[m]!;
    const wCode = 1 / (tasks * M * rows * rows);
    const wR1 = form === 'paper' ? 1 : wCode;
    for (let i = 0; i < tasks; i++) {
      const ui = old[i]![m]!;
      let sum = 0;
      for (let p = 0; p < rows; p++) {
        for (let q = 0; q < rows; q++) {
          let s = 0;
          for (let k = 0; k < rank; k++) s += data[p * rank + k]! * ui[q * rank + k]!;
          sum += Math.abs(s);
          const sg = Math.sign(s);
          for (let k = 0; k < rank; k++) g[p * rank + k] = g[p * rank + k]! + gamma * wR1 * sg * ui[q * rank + k]!;
        }
      }
      r1Paper += sum;
      r1Code += sum * wCode;
    }
    const wEn = 1 / (M * rows * rank);
    for (let j = 0; j < rows * rank; j++) {
      const d = data[j]! - 1;
      enhan += d * d * wEn;
      g[j] = g[j]! + gamma * wEn * 2 * d;
    }
  }
  return { r1Code, r1Paper, enhan, grads };
}
