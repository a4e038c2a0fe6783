/**
 * The forgetting experiment's verdict and text report (pure: no GPU), shared by the command line
 * (forgetting.ts) and the test that runs a small form of the experiment.
 */
import type { ExperimentResult, ForgettingMethod } from '../cidm/forgetting/experiment';

export interface Verdict {
  ok: boolean;
  cidm: number;
  finetune: number;
  reason: string;
}

/** Passes when every concept was learned and CIDM's average forgetting is below Finetuning's. */
export function verdictOf(r: ExperimentResult): Verdict {
  const avg = (m: ForgettingMethod) => r.methods.find((x) => x.method === m)?.averageForgetting;
  const cidm = avg('cidm');
  const finetune = avg('finetune');
  if (cidm === undefined || finetune === undefined) return { ok: false, cidm: NaN, finetune: NaN, reason: 'the run needs both cidm and finetune' };
  if (!r.allLearned) return { ok: false, cidm, finetune, reason: `not every concept was learned (loss after / before its task: ${r.learnedRatio.map((v) => v.toFixed(3)).join(', ')})` };
  if (!(cidm < finetune)) return { ok: false, cidm, finetune, reason: `CIDM forgets ${cidm.toFixed(4)}, not less than Finetuning's ${finetune.toFixed(4)}` };
  return { ok: true, cidm, finetune, reason: `CIDM forgets ${cidm.toFixed(4)} < Finetuning ${finetune.toFixed(4)}` };
}

const fmt = (v: number | null) => (v === null ? '   —   ' : v.toFixed(4));

/**
 * The report; `verdict: false` leaves out the command's PASS/FAIL line, for the test's small form, which
 * checks less than the command does (its learning need not reach the command's bar) and says so itself.
 */
export function reportLines(r: ExperimentResult, o: { verdict?: boolean } = {}): string[] {
  const w = r.settings.warmup;
  const out = [
    `seed ${r.settings.seed}: warm-up ${w.steps} steps (rank ${w.rank}, lr ${w.lr}, ${w.batch} random objects a step, "${w.caption}"): training loss ${r.warmup.firstLoss.toFixed(4)} → ${r.warmup.lastLoss.toFixed(4)} (${r.warmup.seconds.toFixed(0)} s)`,
    `  concept loss (initial tokens, zero LoRA): random base ${r.beforeWarmup.map(fmt).join(', ')}; warmed base ${r.before.map(fmt).join(', ')}`,
    `  after its own task / before it (warmed base): ${r.learnedRatio.map((v) => v.toFixed(3)).join(', ')} (learned: ≤ ${(1 - r.settings.minFall).toFixed(2)})`,
  ];
  for (const m of r.methods) {
    out.push(`  ${m.method}: loss of concept i (rows) after task j (columns)`);
    for (const [i, row] of m.loss.entries()) out.push(`    concept ${i + 1}: ${row.map(fmt).join('  ')}`);
    out.push(`    forgetting ${m.forgetting.map((f) => f.toFixed(4)).join(', ')}; average ${m.averageForgetting.toFixed(4)}; final mean loss ${m.finalMeanLoss.toFixed(4)}`);
  }
  if (o.verdict === false) return out;
  const v = verdictOf(r);
  out.push(`  ${v.ok ? 'PASS' : 'FAIL'}: ${v.reason}`);
  return out;
}
