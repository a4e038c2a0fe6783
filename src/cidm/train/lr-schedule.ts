/**
 * CIDM's learning-rate schedule (spec §1.6: "linear decay to 0 over total_iter, no warmup";
 * train.py builds it with diffusers' get_scheduler('linear', num_warmup_steps=0)). That is
 * transformers' get_linear_schedule_with_warmup: a LambdaLR with
 *   λ(s) = max(0, (total − s) / max(1, total − warmup)),
 * where s counts the scheduler steps taken so far. The scheduler steps once after every optimizer step,
 * so optimizer step k (1-based) runs with s = k − 1: the first step uses the full base rate and the
 * last one (k = total) base / total.
 */

/** lr for the optimizer step that follows `completedSteps` steps (0-based count), as a double like torch's. */
export function linearDecayLr(baseLr: number, completedSteps: number, totalSteps: number, warmupSteps = 0): number {
  if (!Number.isInteger(completedSteps) || completedSteps < 0) throw new RangeError(`step ${completedSteps} is not a count of steps`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new RangeError(`totalSteps ${totalSteps} must be a positive integer`);
  if (completedSteps < warmupSteps) return (baseLr * completedSteps) / Math.max(1, warmupSteps);
  return baseLr * Math.max(0, (totalSteps - completedSteps) / Math.max(1, totalSteps - warmupSteps));
}
