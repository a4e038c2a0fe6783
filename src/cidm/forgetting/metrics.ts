/**
 * Forgetting numbers from a loss matrix (spec §5; the paper's forgetting analysis, in the continual
 * learning literature's form): the forgetting of concept i is its loss after the last task minus its
 * loss right after its own task i; the average runs over every concept but the last (the last has had
 * no later task to forget by). Lower forgets less; negative means later tasks lowered its loss.
 */

/** loss[i][j]: concept i after task j (null for j < i). */
export type LossMatrix = readonly (readonly (number | null)[])[];

export interface ForgettingSummary {
  /** Per concept but the last: loss after the last task − loss right after its own task. */
  forgetting: number[];
  averageForgetting: number;
  /** Mean over every concept of its loss after the last task. */
  finalMeanLoss: number;
}

function cell(loss: LossMatrix, i: number, j: number): number {
  const v = loss[i]?.[j];
  if (v === null || v === undefined || !Number.isFinite(v)) throw new RangeError(`the loss matrix has no finite value for concept ${i + 1} after task ${j + 1}`);
  return v;
}

export function summarizeForgetting(loss: LossMatrix): ForgettingSummary {
  const K = loss.length;
  if (K < 1) throw new RangeError('a forgetting summary needs at least one concept');
  const forgetting = Array.from({ length: K - 1 }, (_, i) => cell(loss, i, K - 1) - cell(loss, i, i));
  const mean = (a: number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : 0);
  return {
    forgetting,
    averageForgetting: mean(forgetting),
    finalMeanLoss: mean(Array.from({ length: K }, (_, i) => cell(loss, i, K - 1))),
  };
}
