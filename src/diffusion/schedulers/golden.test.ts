// Unit-tier run of the golden scheduler comparisons (src/golden/scheduler-cases.ts): every scheduler
// case of golden/ (and its __diffusers_head file) must match diffusers within 1e-5 of scale.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GoldenCase, readManifest } from '../../golden/case-file';
import { formatResult } from '../../golden/result';
import { SCHEDULER_CASES, schedulerCase } from '../../golden/scheduler-cases';

const GOLDEN = join(__dirname, '../../../golden');
const manifest = readManifest(GOLDEN);

describe('scheduler goldens (diffusers 0.25.1)', () => {
  it('has a scheduler for every scheduler case of the manifest', () => {
    const inManifest = Object.keys(manifest.cases).filter((n) => n.startsWith('scheduler_'));
    expect(inManifest.length).toBeGreaterThanOrEqual(5);
    expect(inManifest.filter((n) => !SCHEDULER_CASES.has(n))).toEqual([]);
  });
  // scheduler_pndm is known to the runner but absent from this set (PNDM is checked in pndm.test.ts)
  for (const name of [...SCHEDULER_CASES].filter((n) => manifest.cases[n] !== undefined)) {
    it(name, async () => {
      const c = await GoldenCase.open(GOLDEN, name, manifest.cases[name]!);
      try {
        const results = await schedulerCase({ dir: GOLDEN }, c);
        const lines = results.map((r) => `${formatResult(r)} (${r.why ?? ''})`);
        console.log(lines.join('\n'));
        // timesteps, sigmas/alphas, init_noise_sigma, model_input, prev_sample (+ x0) for each file
        expect(results.length).toBeGreaterThanOrEqual(4);
        expect(results.filter((r) => r.status !== 'PASS').map((r) => formatResult(r))).toEqual([]);
      } finally {
        await c.close();
      }
    });
  }
});
