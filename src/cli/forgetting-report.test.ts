import { describe, expect, it } from 'vitest';
import type { ExperimentResult, MethodResult } from '../cidm/forgetting/experiment';
import { forgettingSettings } from '../cidm/forgetting/experiment';
import { summarizeForgetting } from '../cidm/forgetting/metrics';
import { reportLines, verdictOf } from './forgetting-report';

const method = (m: MethodResult['method'], loss: (number | null)[][]): MethodResult => ({ method: m, loss, ...summarizeForgetting(loss) });

function result(cidmLater: number, finetuneLater: number, learnedRatio = [0.5, 0.6]): ExperimentResult {
  return {
    settings: forgettingSettings({ concepts: 2, steps: 1 }),
    warmup: { seconds: 1, firstLoss: 5, lastLoss: 1.5, curve: [5, 1.5] },
    beforeWarmup: [6, 6],
    before: [4, 4],
    learnedRatio,
    allLearned: learnedRatio.every((r) => r <= 0.8),
    methods: [method('cidm', [[2, cidmLater], [null, 2.4]]), method('finetune', [[2, finetuneLater], [null, 2.4]])],
  };
}

describe('forgetting verdict', () => {
  it('passes only when every concept was learned and CIDM forgets less than Finetuning', () => {
    expect(verdictOf(result(2.1, 3)).ok).toBe(true);
    expect(verdictOf(result(3, 3)).ok).toBe(false);
    expect(verdictOf(result(3.5, 3)).reason).toMatch(/not less than Finetuning/);
    expect(verdictOf(result(2.1, 3, [0.5, 0.85])).reason).toMatch(/not every concept was learned/);
    const only = { ...result(2.1, 3), methods: result(2.1, 3).methods.slice(0, 1) };
    expect(verdictOf(only).ok).toBe(false);
  });

  it('reports every matrix with dashes above the diagonal', () => {
    const lines = reportLines(result(2.1, 3)).join('\n');
    expect(lines).toContain('concept 2:    —     2.4000');
    expect(lines).toContain('average 0.1000');
    expect(lines).toContain('PASS');
    expect(lines).toContain('random base 6.0000, 6.0000; warmed base 4.0000, 4.0000');
    expect(lines).toContain('training loss 5.0000 → 1.5000');
    // the test's small form prints the same report without the command's verdict line
    const small = reportLines(result(2.1, 3, [0.5, 0.85]), { verdict: false }).join('\n');
    expect(small).toContain('concept 2:    —     2.4000');
    expect(small).not.toMatch(/PASS|FAIL/);
    expect(reportLines(result(2.1, 3, [0.5, 0.85])).join('\n')).toContain('FAIL: not every concept was learned');
  });
});
