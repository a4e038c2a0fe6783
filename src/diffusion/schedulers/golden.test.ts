// Unit-tier run of the golden scheduler comparisons (src/golden/scheduler-cases.ts): every scheduler
// case of golden/ (and its __diffusers_head file) must match diffusers within 1e-5 of scale.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GoldenCase, readManifest } from '../../golden/case-file';
import { formatResult } from '../../golden/result';
import { schedulerCase } from '../../golden/scheduler-cases';
import { classifyCase } from '../../golden/case-kind';

const GOLDEN = join(__dirname, '../../../golden');
const manifest = readManifest(GOLDEN);

describe('scheduler goldens (diffusers 0.25.1)', () => {
  // chosen as the runner chooses them: by the entry and the tensors (case-kind.ts), not by name
  const cases: [string, Awaited<ReturnType<typeof GoldenCase.open>>['entry']][] = Object.entries(manifest.cases).filter(([, e]) => e.group === 'e_schedulers');
  it('classifies every scheduler case of the manifest as a scheduler the studio implements', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
    const kinds: string[] = [];
    for (const [name, entry] of cases) {
      const c = await GoldenCase.open(GOLDEN, name, entry);
      const k = classifyCase(name, entry, new Set(c.names()));
      await c.close();
      kinds.push(k.kind === 'scheduler' ? k.scheduler : `${name}: ${k.kind}`);
    }
    expect(kinds.sort()).toEqual(['ddim', 'dpmpp_2m', 'dpmpp_2m_karras', 'euler', 'euler_ancestral']);
  });
  for (const [name, entry] of cases) {
    it(name, async () => {
      const c = await GoldenCase.open(GOLDEN, name, entry);
      try {
        const k = classifyCase(name, entry, new Set(c.names()));
        if (k.kind !== 'scheduler') throw new Error(`${name} classified as ${k.kind}`);
        const results = await schedulerCase({ dir: GOLDEN }, c, k.scheduler);
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
